-- Night :run_date's flags, when a later night has been evaluated already (a
-- re-run, a backfill in reverse order; rules/flag_versions.py): first the
-- versions spanning the night are cut around it, and those the night carries
-- on unchanged are carried on; then start_versions.sql starts the others and
-- join_after_night.sql joins them with the next night's.
-- A flag version spans a run of evaluated nights, first_night to last_night,
-- over which the flag held with one content: severity, raised_on, rule
-- version, facts, district and project name. An open version, holding through
-- the latest night, ends after every night (OPEN_END), and is cut and
-- joined here as any other.
-- UPDATE ... FROM and IS NOT DISTINCT FROM need SQLite 3.39 or later (Debian 12
-- and the Airflow image have 3.40).

INSERT INTO evaluated_night (run_date) VALUES (:run_date) ON CONFLICT DO NOTHING;

-- What the versions held for the night leaves them. A version spanning the
-- night is cut there: its part after the night starts on the next evaluated
-- night, its part before ends on the previous one, and one starting on the
-- night keeps only its part after it. A version's ends are evaluated nights,
-- so the next and previous evaluated nights fall within the parts they bound.
INSERT INTO flag_version (project_id, rule, first_night, last_night, base_severity, raised_on,
                          rule_version, detail, district_code, project_name)
SELECT project_id, rule,
       (SELECT MIN(run_date) FROM evaluated_night WHERE run_date > :run_date),
       last_night, base_severity, raised_on, rule_version, detail, district_code, project_name
FROM flag_version
WHERE first_night <= :run_date AND last_night > :run_date;

UPDATE flag_version
SET last_night = (SELECT MAX(run_date) FROM evaluated_night WHERE run_date < :run_date)
WHERE first_night < :run_date AND last_night >= :run_date;

DELETE FROM flag_version WHERE first_night = :run_date AND last_night >= :run_date;

-- A flag as it was on the previous evaluated night carries on that version.
UPDATE flag_version
SET last_night = :run_date
FROM night_flag t
WHERE flag_version.last_night = (SELECT MAX(run_date) FROM evaluated_night
                                 WHERE run_date < :run_date)
  AND t.project_id = flag_version.project_id AND t.rule = flag_version.rule
  AND (t.base_severity, t.raised_on, t.rule_version, t.detail, t.district_code,
       t.project_name)
      IS NOT DISTINCT FROM
      (flag_version.base_severity, flag_version.raised_on, flag_version.rule_version,
       flag_version.detail, flag_version.district_code, flag_version.project_name);
