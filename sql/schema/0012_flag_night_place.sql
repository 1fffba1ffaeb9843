-- A flag keeps where it was and what its project was called that night, so the
-- trend of the last nights and the flags resolved since yesterday need no
-- night snapshot of an earlier night: those can go once published.
ALTER TABLE flag_night ADD COLUMN district_code TEXT;
ALTER TABLE flag_night ADD COLUMN project_name TEXT;
UPDATE flag_night SET
    district_code = (SELECT p.district_code FROM night_project p
                     WHERE p.run_date = flag_night.run_date
                       AND p.project_id = flag_night.project_id),
    project_name = (SELECT p.name FROM night_project p
                    WHERE p.run_date = flag_night.run_date
                      AND p.project_id = flag_night.project_id);
CREATE INDEX flag_night_district ON flag_night (run_date, district_code);
