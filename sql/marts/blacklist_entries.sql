-- The joint-punishment list as exported on night :run_date (rules.md, "What
-- goes out"): every `dishonest` entry, of an organisation or a person, that
-- applies on D: listed_on <= D < expires_on, and removed_on null or after D.
-- `major_violation` notices are not exported. A person's ID number was masked
-- when loaded, whatever the source sent. By entry_id, in the columns of
-- blacklist/entries.csv.
SELECT entry_id, subject_type, subject_name, credit_code, person_id_masked, list_type,
       cause, decision_no, listing_authority, listed_on, expires_on
FROM night_list_entry
WHERE run_date = :run_date AND list_type = 'dishonest'
  AND listed_on <= :run_date AND expires_on > :run_date
  AND (removed_on IS NULL OR removed_on > :run_date)
ORDER BY entry_id
