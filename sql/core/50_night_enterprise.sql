-- The enterprise register as night :run_date knew it; a tombstoned register
-- record is not in the register. Revoked and deregistered companies stay: they
-- still match parties (rules.md, "Entities").
INSERT INTO night_enterprise (run_date, credit_code, payload_hash, name, former_names,
                              legacy_registration_no, status)
SELECT :run_date, credit_code, payload_hash, name, former_names, legacy_registration_no, status
FROM (
    SELECT v.*,
           ROW_NUMBER() OVER (PARTITION BY credit_code
                              ORDER BY updated_at DESC, payload_hash DESC) AS rn
    FROM enterprise_version v
    WHERE loaded_at <= :cutoff
) latest
WHERE rn = 1 AND deleted = 0;
