-- What each night's snapshot looked like (rows, null shares of rule columns,
-- median amounts, sql/checks/night_profile.sql), so a night whose sources
-- changed beyond belief since the last published night is stopped, not
-- published: a source sending 万元 where it promised 元, or dropping a date.
CREATE TABLE night_profile (
    run_date        DATE NOT NULL,
    source_table    TEXT NOT NULL,
    metric          TEXT NOT NULL,           -- rows | null_share:<column> | median:<column> | …
    value           DOUBLE PRECISION,
    PRIMARY KEY (run_date, source_table, metric)
);

-- An engineer's word that night D's change is real (a district merged in, a
-- bulk correction at the source): the drift is reported, the night goes on.
CREATE TABLE drift_acceptance (
    run_date        DATE PRIMARY KEY,
    reason          TEXT NOT NULL,
    accepted_by     TEXT NOT NULL,
    accepted_at     TEXT NOT NULL
);
