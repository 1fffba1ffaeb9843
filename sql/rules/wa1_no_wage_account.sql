-- WA1 no wage account (未开设农民工工资专用账户).
-- An active project whose contract was signed more than
-- account.open_within_days ago (exactly that many days is not yet due) and that
-- has no account open on D. "Open on D": opened_on <= D and closed_on null or
-- after D; the account's status field is not read.
-- Severity: red once works have started (started_on <= D), else orange.
-- :wa1_signed_before = D - account.open_within_days, so D > S + N <=> S < it.
SELECT p.project_id,
       CASE WHEN p.started_on IS NOT NULL AND p.started_on <= :run_date
            THEN 'red' ELSE 'orange' END AS base_severity,
       p.contract_signed_on,
       p.started_on
FROM night_project p
WHERE p.run_date = :run_date
  AND p.active = 1
  AND p.contract_signed_on < :wa1_signed_before
  AND NOT EXISTS (
      SELECT 1 FROM night_account a
      WHERE a.run_date = p.run_date
        AND a.project_id = p.project_id
        AND a.opened_on <= :run_date
        AND (a.closed_on IS NULL OR a.closed_on > :run_date)
  )
