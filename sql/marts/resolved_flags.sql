-- The flags resolved since the previous published night (rules.md, "Flag
-- lifecycle"): open on :previous_night and not open on night :run_date, by
-- project and rule; none on the first night. Each keeps the district and
-- project name it was last open with (flag_night), so no snapshot of the
-- previous night is needed.
SELECT o.project_id, o.rule, o.raised_on, o.district_code, o.project_name
FROM flag_night o
WHERE o.run_date = :previous_night
  AND NOT EXISTS (SELECT 1 FROM flag_night n
                  WHERE n.run_date = :run_date
                    AND n.project_id = o.project_id AND n.rule = o.rule)
ORDER BY o.project_id, o.rule
