-- WD3 guarantee lapses early (保函/保单将在竣工前到期).
-- A covering bank guarantee or insurance policy is valid only until before the
-- planned completion and lapses within deposit.lapse_warning_days of D
-- (D <= valid_until <= D + N; covering already means valid_until >= D).
-- No flag when planned_completion_on is null.
-- :wd3_lapses_by = D + deposit.lapse_warning_days.
SELECT p.project_id,
       'yellow' AS base_severity,
       MIN(d.valid_until) AS lapses_on,
       MIN(d.deposit_id) AS deposit_id,
       p.planned_completion_on
FROM night_project p
JOIN night_deposit d
  ON d.run_date = p.run_date AND d.project_id = p.project_id
WHERE p.run_date = :run_date
  AND p.active = 1
  AND p.planned_completion_on IS NOT NULL
  AND d.form IN ('bank_guarantee', 'insurance_policy')
  AND d.status = 'active'
  AND d.deposited_on <= :run_date
  AND d.valid_until IS NOT NULL
  AND d.valid_until >= :run_date
  AND d.valid_until <= :wd3_lapses_by
  AND d.valid_until < p.planned_completion_on
GROUP BY p.project_id, p.planned_completion_on
