-- WD2 deposit short (保证金存储不足).
-- At least one deposit covers D and the covering amounts add up to less than
-- the required deposit (rules/deposit.py); no grace period. "Covers D": status
-- active, deposited_on <= D, valid_until null or >= D.
SELECT p.project_id,
       'orange' AS base_severity,
       r.required_fen,
       SUM(d.amount_fen) AS covered_fen
FROM night_project p
JOIN night_required_deposit r
  ON r.run_date = p.run_date AND r.project_id = p.project_id
JOIN night_deposit d
  ON d.run_date = p.run_date AND d.project_id = p.project_id
WHERE p.run_date = :run_date
  AND p.active = 1
  AND d.status = 'active'
  AND d.deposited_on <= :run_date
  AND (d.valid_until IS NULL OR d.valid_until >= :run_date)
GROUP BY p.project_id, r.required_fen
HAVING SUM(d.amount_fen) < r.required_fen
