-- The roster's districts (delivery/roster.py): the city each is supervised
-- from, and the names the board shows. Every export refreshes it from the
-- roster, so that the night's summaries (sql/marts/flag_summary.sql) group
-- districts into cities as the roster does; without a usable roster it is
-- empty, and a district belongs to the city its code names.
CREATE TABLE roster_district (
    district_code   TEXT PRIMARY KEY,
    district_name   TEXT NOT NULL,
    city_code       TEXT NOT NULL,
    city_name       TEXT NOT NULL
);
