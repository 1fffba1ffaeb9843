-- PAY1 wages not paid through the account (未通过专用账户足额代发工资).
-- For the latest closed month (:closed_month), paid_via_contractor is below
-- payroll x pay.min_share. The share is bound as an exact fraction
-- (:pay_share_num / :pay_share_den) so the comparison is in integers.
-- No row for the month raises nothing.
SELECT p.project_id,
       'orange' AS base_severity,
       m.month,
       m.payroll_fen,
       m.paid_via_contractor_fen
FROM night_project p
JOIN night_realname_month m
  ON m.run_date = p.run_date AND m.project_id = p.project_id
WHERE p.run_date = :run_date
  AND p.active = 1
  AND m.month = :closed_month
  AND m.paid_via_contractor_fen * :pay_share_den < m.payroll_fen * :pay_share_num
