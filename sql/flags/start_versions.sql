-- Night :run_date's flags that no version holds on the night start one, from
-- the night to :ends: the night itself when a later night has been evaluated
-- (join_after_night.sql may then join it with the next night's), else
-- OPEN_END (rules/flag_versions.py). What the night carries on, the files
-- before this one have carried on.
INSERT INTO flag_version (project_id, rule, first_night, last_night, base_severity, raised_on,
                          rule_version, detail, district_code, project_name)
SELECT t.project_id, t.rule, :run_date, :ends, t.base_severity, t.raised_on,
       t.rule_version, t.detail, t.district_code, t.project_name
FROM night_flag t
WHERE NOT EXISTS (SELECT 1 FROM flag_version v
                  WHERE v.project_id = t.project_id AND v.rule = t.rule
                    AND v.last_night = :ends);
