-- WA2 account not filed (专用账户未备案).
-- Some account of the project that is open on D was opened more than
-- account.file_within_days ago and has not been filed by D (filed_on null or
-- after D). :wa2_opened_before = D - account.file_within_days.
SELECT p.project_id,
       'yellow' AS base_severity,
       MIN(a.account_id) AS account_id,
       MIN(a.opened_on) AS opened_on
FROM night_project p
JOIN night_account a
  ON a.run_date = p.run_date AND a.project_id = p.project_id
WHERE p.run_date = :run_date
  AND p.active = 1
  AND a.opened_on <= :run_date
  AND (a.closed_on IS NULL OR a.closed_on > :run_date)
  AND a.opened_on < :wa2_opened_before
  AND (a.filed_on IS NULL OR a.filed_on > :run_date)
GROUP BY p.project_id
