-- GI1 labour cost not paid in (政府投资项目人工费用未按月拨付).
-- The project is linked (night_link) to a government-invested project of the
-- dev-reform bundle night D uses (:bundle_day: the rows valid in it), and in none of the
-- labour.missing_months most recent closed months (:gi1_first_month ..
-- :gi1_last_month, 'YYYY-MM') was any labour cost paid in: zero, blank and no
-- row all count as nothing; malformed rows were quarantined, so never seen here.
SELECT p.project_id,
       'orange' AS base_severity,
       l.investment_code,
       CAST(:gi1_first_month AS TEXT) AS from_month,
       CAST(:gi1_last_month AS TEXT) AS to_month
FROM night_project p
JOIN night_link l
  ON l.run_date = p.run_date AND l.project_id = p.project_id
WHERE p.run_date = :run_date
  AND p.active = 1
  AND EXISTS (
      SELECT 1 FROM investment_project i
      WHERE i.bundle_day <= :bundle_day AND (i.valid_to IS NULL OR i.valid_to > :bundle_day)
        AND i.code_normalised = l.investment_code
        AND i.government_invested = 1
  )
  AND NOT EXISTS (
      SELECT 1 FROM fund_disbursement f
      WHERE f.bundle_day <= :bundle_day AND (f.valid_to IS NULL OR f.valid_to > :bundle_day)
        AND f.code_normalised = l.investment_code
        AND f.month >= :gi1_first_month
        AND f.month <= :gi1_last_month
        AND f.labour_fen > 0
  )
