-- Wage-arrears list entries as night :run_date knew them; a tombstoned entry
-- never applied. Whether an entry applies on a date is decided by the rules.
INSERT INTO night_list_entry (run_date, entry_id, payload_hash, subject_type, subject_name,
                              credit_code, person_id_masked, list_type, cause, decision_no,
                              listing_authority, listed_on, expires_on, removed_on, removal_reason)
SELECT :run_date, entry_id, payload_hash, subject_type, subject_name,
       credit_code, person_id_masked, list_type, cause, decision_no,
       listing_authority, listed_on, expires_on, removed_on, removal_reason
FROM (
    SELECT v.*,
           ROW_NUMBER() OVER (PARTITION BY entry_id
                              ORDER BY updated_at DESC, payload_hash DESC) AS rn
    FROM list_entry_version v
    WHERE loaded_at <= :cutoff
) latest
WHERE rn = 1 AND deleted = 0;
