-- The profile of night D's snapshot, per source table: how many records the
-- rules see, the share of null or zero values in the columns a rule reads,
-- and median amounts. Compared with the last published night's profile
-- (validate/night_drift.py), it catches a source that changed its format
-- without breaking a single check: 万元 sent as 元 (the median moves by 10^4),
-- a date column renamed (its null share jumps to 1), a pull cut short (rows
-- drop). Metric names say how they are compared: rows relatively,
-- *_share absolutely, median:* as a ratio.
SELECT 'projects' AS source_table, 'rows' AS metric,
       CAST(COUNT(*) AS DOUBLE PRECISION) AS value
FROM night_project WHERE run_date = :run_date
UNION ALL
SELECT 'projects', 'null_share:started_on',
       AVG(CASE WHEN started_on IS NULL THEN 1.0 ELSE 0.0 END)
FROM night_project WHERE run_date = :run_date AND active = 1
UNION ALL
SELECT 'projects', 'null_share:planned_completion_on',
       AVG(CASE WHEN planned_completion_on IS NULL THEN 1.0 ELSE 0.0 END)
FROM night_project WHERE run_date = :run_date AND active = 1
UNION ALL
SELECT 'projects', 'median:contract_amount_fen', CAST((
    SELECT contract_amount_fen FROM night_project
    WHERE run_date = :run_date AND contract_amount_fen IS NOT NULL
    ORDER BY contract_amount_fen LIMIT 1 OFFSET (
        SELECT COUNT(contract_amount_fen) / 2 FROM night_project WHERE run_date = :run_date)
) AS DOUBLE PRECISION)
UNION ALL
SELECT 'wage_accounts', 'rows', CAST(COUNT(*) AS DOUBLE PRECISION)
FROM night_account WHERE run_date = :run_date
UNION ALL
SELECT 'wage_accounts', 'null_share:filed_on',
       AVG(CASE WHEN filed_on IS NULL THEN 1.0 ELSE 0.0 END)
FROM night_account WHERE run_date = :run_date
UNION ALL
SELECT 'wage_accounts', 'null_share:closed_on',
       AVG(CASE WHEN closed_on IS NULL THEN 1.0 ELSE 0.0 END)
FROM night_account WHERE run_date = :run_date
UNION ALL
SELECT 'wage_deposits', 'rows', CAST(COUNT(*) AS DOUBLE PRECISION)
FROM night_deposit WHERE run_date = :run_date
UNION ALL
SELECT 'wage_deposits', 'median:amount_fen', CAST((
    SELECT amount_fen FROM night_deposit
    WHERE run_date = :run_date AND amount_fen IS NOT NULL
    ORDER BY amount_fen LIMIT 1 OFFSET (
        SELECT COUNT(amount_fen) / 2 FROM night_deposit WHERE run_date = :run_date)
) AS DOUBLE PRECISION)
UNION ALL
SELECT 'realname_monthly', 'rows', CAST(COUNT(*) AS DOUBLE PRECISION)
FROM night_realname_month WHERE run_date = :run_date AND month = :closed_month
UNION ALL
SELECT 'realname_monthly', 'median:payroll_fen', CAST((
    SELECT payroll_fen FROM night_realname_month
    WHERE run_date = :run_date AND month = :closed_month AND payroll_fen IS NOT NULL
    ORDER BY payroll_fen LIMIT 1 OFFSET (
        SELECT COUNT(payroll_fen) / 2 FROM night_realname_month
        WHERE run_date = :run_date AND month = :closed_month)
) AS DOUBLE PRECISION)
UNION ALL
SELECT 'enterprises', 'rows', CAST(COUNT(*) AS DOUBLE PRECISION)
FROM night_enterprise WHERE run_date = :run_date
UNION ALL
SELECT 'list_entries', 'rows', CAST(COUNT(*) AS DOUBLE PRECISION)
FROM night_list_entry WHERE run_date = :run_date
UNION ALL
SELECT 'investment_projects', 'rows', CAST(COUNT(*) AS DOUBLE PRECISION)
FROM investment_project
WHERE bundle_day <= :bundle_day AND (valid_to IS NULL OR valid_to > :bundle_day)
UNION ALL
SELECT 'investment_projects', 'government_share',
       AVG(CASE WHEN government_invested = 1 THEN 1.0 ELSE 0.0 END)
FROM investment_project
WHERE bundle_day <= :bundle_day AND (valid_to IS NULL OR valid_to > :bundle_day)
UNION ALL
SELECT 'fund_disbursements', 'rows', CAST(COUNT(*) AS DOUBLE PRECISION)
FROM fund_disbursement
WHERE bundle_day <= :bundle_day AND (valid_to IS NULL OR valid_to > :bundle_day)
UNION ALL
SELECT 'fund_disbursements', 'zero_share:labour_fen',
       AVG(CASE WHEN labour_fen IS NULL OR labour_fen = 0 THEN 1.0 ELSE 0.0 END)
FROM fund_disbursement
WHERE bundle_day <= :bundle_day AND (valid_to IS NULL OR valid_to > :bundle_day)
