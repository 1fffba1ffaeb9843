-- RN1 real-name attendance low (实名制考勤更新率偏低).
-- For the latest closed month (:closed_month), at least one worker is
-- registered and attending / registered is below realname.min_update_rate,
-- compared exactly as integers (:rn1_rate_num / :rn1_rate_den).
-- No row for the month raises nothing.
SELECT p.project_id,
       'yellow' AS base_severity,
       m.month,
       m.registered_workers,
       m.attending_workers
FROM night_project p
JOIN night_realname_month m
  ON m.run_date = p.run_date AND m.project_id = p.project_id
WHERE p.run_date = :run_date
  AND p.active = 1
  AND m.month = :closed_month
  AND m.registered_workers >= 1
  AND m.attending_workers * :rn1_rate_den < m.registered_workers * :rn1_rate_num
