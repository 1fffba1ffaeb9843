-- CR1 contractor / CR2 builder on the dishonest list (被列入拖欠农民工工资失信联合惩戒对象名单).
-- The party (:role, after resolution) has an ORGANISATION `dishonest` entry for
-- its credit code that applies on D: listed_on <= D < expires_on and removed_on
-- null or after D. A person entry carrying the company's code does not count.
-- Severity (:severity) comes from the rule catalogue: CR1 red, CR2 orange.
SELECT p.project_id,
       CAST(:severity AS TEXT) AS base_severity,
       c.credit_code AS listed_credit_code,
       MIN(e.entry_id) AS entry_id,
       MIN(e.decision_no) AS decision_no,
       COUNT(*) AS entries
FROM night_project p
JOIN night_party c
  ON c.run_date = p.run_date AND c.project_id = p.project_id AND c.role = :role
JOIN night_list_entry e
  ON e.run_date = p.run_date AND e.credit_code = c.credit_code
WHERE p.run_date = :run_date
  AND p.active = 1
  AND e.subject_type = 'organization'
  AND e.list_type = 'dishonest'
  AND e.listed_on <= :run_date
  AND e.expires_on > :run_date
  AND (e.removed_on IS NULL OR e.removed_on > :run_date)
GROUP BY p.project_id, c.credit_code
