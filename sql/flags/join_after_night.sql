-- Night :run_date's versions, a later night having been evaluated already
-- (rules/flag_versions.py): a version ending on the night takes in the flag's
-- version of the next evaluated night when that has the same content.
UPDATE flag_version
SET last_night = n.last_night
FROM flag_version n
WHERE flag_version.last_night = :run_date
  AND n.project_id = flag_version.project_id AND n.rule = flag_version.rule
  AND n.first_night = (SELECT MIN(run_date) FROM evaluated_night WHERE run_date > :run_date)
  AND (n.base_severity, n.raised_on, n.rule_version, n.detail, n.district_code,
       n.project_name)
      IS NOT DISTINCT FROM
      (flag_version.base_severity, flag_version.raised_on, flag_version.rule_version,
       flag_version.detail, flag_version.district_code, flag_version.project_name);

DELETE FROM flag_version
WHERE first_night = (SELECT MIN(run_date) FROM evaluated_night WHERE run_date > :run_date)
  AND last_night > :run_date
  AND EXISTS (SELECT 1 FROM flag_version c
              WHERE c.project_id = flag_version.project_id AND c.rule = flag_version.rule
                AND c.first_night <= :run_date AND c.last_night >= flag_version.first_night);
