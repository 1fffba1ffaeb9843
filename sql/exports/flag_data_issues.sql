-- The data-quality warnings on the evidence of night D's flags: each flag with
-- the descriptive breaches (record_warning) of the source records its rule
-- reads, so the inspector sees that the list row rests on a record with, say,
-- a blank bank name. Which records a rule reads:
--   every rule:  the project itself;
--   WA1, WA2:    the project's wage accounts;
--   WD1-WD3:     its deposits;
--   PAY1, RN1:   its real-name row of the latest closed month;
--   CR1 / CR2:   the register record and list entries of the resolved
--                contractor / builder;
--   GI1:         the linked investment project and its disbursements in the
--                night's bundle.
WITH flag AS (
    SELECT project_id, rule FROM flag_night WHERE run_date = :run_date
),
party AS (
    SELECT f.project_id, f.rule, pa.credit_code
    FROM flag f
    JOIN night_party pa ON pa.run_date = :run_date AND pa.project_id = f.project_id
         AND pa.role = CASE f.rule WHEN 'CR1' THEN 'contractor' ELSE 'builder' END
    WHERE f.rule IN ('CR1', 'CR2')
),
link AS (
    SELECT f.project_id, f.rule, l.investment_code
    FROM flag f
    JOIN night_link l ON l.run_date = :run_date AND l.project_id = f.project_id
    WHERE f.rule = 'GI1'
),
evidence (project_id, rule, source_table, payload_hash) AS (
    SELECT f.project_id, f.rule, 'projects', r.payload_hash FROM flag f
    JOIN night_project r ON r.run_date = :run_date AND r.project_id = f.project_id
    UNION ALL
    SELECT f.project_id, f.rule, 'wage_accounts', r.payload_hash FROM flag f
    JOIN night_account r ON r.run_date = :run_date AND r.project_id = f.project_id
    WHERE f.rule IN ('WA1', 'WA2')
    UNION ALL
    SELECT f.project_id, f.rule, 'wage_deposits', r.payload_hash FROM flag f
    JOIN night_deposit r ON r.run_date = :run_date AND r.project_id = f.project_id
    WHERE f.rule IN ('WD1', 'WD2', 'WD3')
    UNION ALL
    SELECT f.project_id, f.rule, 'realname_monthly', r.payload_hash FROM flag f
    JOIN night_realname_month r ON r.run_date = :run_date AND r.project_id = f.project_id
         AND r.month = :closed_month
    WHERE f.rule IN ('PAY1', 'RN1')
    UNION ALL
    SELECT p.project_id, p.rule, 'enterprises', r.payload_hash FROM party p
    JOIN night_enterprise r ON r.run_date = :run_date AND r.credit_code = p.credit_code
    UNION ALL
    SELECT p.project_id, p.rule, 'list_entries', r.payload_hash FROM party p
    JOIN night_list_entry r ON r.run_date = :run_date AND r.credit_code = p.credit_code
    UNION ALL
    SELECT l.project_id, l.rule, 'investment_projects', r.payload_hash FROM link l
    JOIN investment_project r ON r.bundle_day <= :bundle_day
         AND (r.valid_to IS NULL OR r.valid_to > :bundle_day)
         AND r.code_normalised = l.investment_code
    UNION ALL
    SELECT l.project_id, l.rule, 'fund_disbursements', r.payload_hash FROM link l
    JOIN fund_disbursement r ON r.bundle_day <= :bundle_day
         AND (r.valid_to IS NULL OR r.valid_to > :bundle_day)
         AND r.code_normalised = l.investment_code
)
SELECT e.project_id, e.rule, w.source_table, w.column_name, w.expectation
FROM evidence e
JOIN record_warning w ON w.source_table = e.source_table AND w.payload_hash = e.payload_hash
ORDER BY e.project_id, e.rule, w.source_table, w.column_name, w.expectation
