-- Night :run_date's flags, when no later night has been evaluated: the night
-- every scheduled run writes, and a re-run of the latest night. The versions
-- that hold through the latest night are open (their last_night is
-- :open_end, rules/flag_versions.py), so a flag the night continues unchanged
-- is left as it is: only the flags that end, change or start tonight are
-- written. sql/flags/write_night.sql writes a night with later nights.

INSERT INTO evaluated_night (run_date) VALUES (:run_date) ON CONFLICT DO NOTHING;

-- A re-run: what the night started goes,
DELETE FROM flag_version WHERE first_night = :run_date;

-- a version the night closed reopens where the night carries it on,
UPDATE flag_version
SET last_night = :open_end
FROM night_flag t
WHERE flag_version.last_night = (SELECT MAX(run_date) FROM evaluated_night
                                 WHERE run_date < :run_date)
  AND t.project_id = flag_version.project_id AND t.rule = flag_version.rule
  AND (t.base_severity, t.raised_on, t.rule_version, t.detail, t.district_code,
       t.project_name)
      IS NOT DISTINCT FROM
      (flag_version.base_severity, flag_version.raised_on, flag_version.rule_version,
       flag_version.detail, flag_version.district_code, flag_version.project_name);

-- and an open version the night does not carry on ends on the night before it.
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

-- Any other flag of the night starts an open version.
INSERT INTO flag_version (project_id, rule, first_night, last_night, base_severity, raised_on,
                          rule_version, detail, district_code, project_name)
SELECT t.project_id, t.rule, :run_date, :open_end, t.base_severity, t.raised_on,
       t.rule_version, t.detail, t.district_code, t.project_name
FROM night_flag t
WHERE NOT EXISTS (SELECT 1 FROM flag_version v
                  WHERE v.project_id = t.project_id AND v.rule = t.rule
                    AND v.last_night = :open_end);

DROP TABLE night_flag;
