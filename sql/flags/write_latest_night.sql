-- Night :run_date's flags, when no later night has been evaluated: the night
-- every scheduled run writes, and a re-run of the latest night. The versions
-- that hold through the latest night are open (their last_night is
-- :open_end, rules/flag_versions.py), so a flag the night continues unchanged
-- is left as it is: only the flags that end, change or start tonight are
-- written. start_versions.sql then starts the night's new versions.

INSERT INTO evaluated_night (run_date) VALUES (:run_date) ON CONFLICT DO NOTHING;

-- A re-run undoes what the night wrote before: the versions it started go,
-- and those it ended, on the night before it, are open again.
DELETE FROM flag_version WHERE first_night = :run_date;

UPDATE flag_version
SET last_night = :open_end
WHERE last_night = (SELECT MAX(run_date) FROM evaluated_night WHERE run_date < :run_date);

-- An open version the night does not carry on ends on the night before it.
UPDATE flag_version
SET last_night = (SELECT MAX(run_date) FROM evaluated_night WHERE run_date < :run_date)
WHERE last_night = :open_end
  AND NOT EXISTS (
      SELECT 1 FROM night_flag t
      WHERE t.project_id = flag_version.project_id AND t.rule = flag_version.rule
        AND (t.base_severity, t.raised_on, t.rule_version, t.detail, t.district_code,
             t.project_name)
            IS NOT DISTINCT FROM
            (flag_version.base_severity, flag_version.raised_on, flag_version.rule_version,
             flag_version.detail, flag_version.district_code, flag_version.project_name));
