-- WD1 no wage deposit (未存储农民工工资保证金).
-- An active project that owes a deposit (required > 0, see rules/deposit.py),
-- whose works started more than deposit.due_days_after_start days ago, and that
-- has no deposit covering D. "Covers D": status active, deposited_on <= D and
-- valid_until null or >= D (tombstoned deposits were dropped in night_deposit).
-- :wd1_started_before = D - deposit.due_days_after_start.
SELECT p.project_id,
       'red' AS base_severity,
       r.required_fen,
       r.multiplier,
       r.basis AS deposit_basis,
       p.started_on
FROM night_project p
JOIN night_required_deposit r
  ON r.run_date = p.run_date AND r.project_id = p.project_id
WHERE p.run_date = :run_date
  AND p.active = 1
  AND r.required_fen > 0
  AND p.started_on IS NOT NULL
  AND p.started_on < :wd1_started_before
  AND NOT EXISTS (
      SELECT 1 FROM night_deposit d
      WHERE d.run_date = p.run_date
        AND d.project_id = p.project_id
        AND d.status = 'active'
        AND d.deposited_on <= :run_date
        AND (d.valid_until IS NULL OR d.valid_until >= :run_date)
  )
