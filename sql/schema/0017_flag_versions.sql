-- Flags as versions, not a copy a night (rules/flag_versions.py): most flags
-- are the same tonight as last night, so a flag keeps one row for every run of
-- nights over which it held with the same content, and a night's flags are
-- derived from those rows. Every night's flags are still there to read, in
-- `flag_night` as before, now a view.

-- One row per night whose rules were evaluated: the nights a flag version
-- spans. Written by the evaluation, not at publishing, because the night's
-- export reads its flags before it is published.
CREATE TABLE evaluated_night (
    run_date        DATE PRIMARY KEY
);

-- A flag (project_id, rule) with the same content on every evaluated night
-- from first_night to last_night, both evaluated nights themselves; on the
-- evaluated nights just before and after, the flag is absent or different.
-- The versions of one flag never overlap.
CREATE TABLE flag_version (
    project_id      TEXT NOT NULL,
    rule            TEXT NOT NULL,
    first_night     DATE NOT NULL,
    last_night      DATE NOT NULL,
    base_severity   TEXT NOT NULL,
    raised_on       DATE NOT NULL,           -- first night of the current unbroken run
    rule_version    TEXT NOT NULL,
    detail          TEXT NOT NULL,           -- JSON: the facts behind the flag
    district_code   TEXT,
    project_name    TEXT,
    PRIMARY KEY (project_id, rule, first_night)
);
-- A night's flags are the versions that end on or after it and start on or
-- before it: for the latest nights, about the flags open now. The evaluation
-- also asks for a flag's version ending on a given night.
CREATE INDEX flag_version_nights ON flag_version (last_night, project_id, rule);

INSERT INTO evaluated_night (run_date)
SELECT run_date FROM flag_night
UNION
SELECT run_date FROM night;

-- Each flag's unbroken runs of evaluated nights with one content become one
-- version: numbered by night, a run's nights keep night number less their
-- number within the flag's content constant.
INSERT INTO flag_version (project_id, rule, first_night, last_night, base_severity, raised_on,
                          rule_version, detail, district_code, project_name)
SELECT project_id, rule, MIN(run_date), MAX(run_date), base_severity, raised_on,
       rule_version, detail, district_code, project_name
FROM (
    SELECT f.*,
           n.night_no - ROW_NUMBER() OVER (
               PARTITION BY f.project_id, f.rule, f.base_severity, f.raised_on,
                            f.rule_version, f.detail, f.district_code, f.project_name
               ORDER BY f.run_date) AS run_no
    FROM flag_night f
    JOIN (SELECT run_date, ROW_NUMBER() OVER (ORDER BY run_date) AS night_no
          FROM evaluated_night) n ON n.run_date = f.run_date
) numbered
GROUP BY project_id, rule, base_severity, raised_on, rule_version, detail, district_code,
         project_name, run_no;

DROP TABLE flag_night;

-- Night D's flags, one row per project and rule that holds, as the table of
-- that name had them.
CREATE VIEW flag_night AS
SELECT e.run_date, v.project_id, v.rule, v.base_severity, v.raised_on, v.rule_version,
       v.detail, v.district_code, v.project_name
FROM evaluated_night e
JOIN flag_version v ON v.first_night <= e.run_date AND v.last_night >= e.run_date;
