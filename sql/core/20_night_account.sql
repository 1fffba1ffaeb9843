-- Wage special accounts as night :run_date knew them (latest version by
-- :cutoff; tombstoned accounts never existed).
INSERT INTO night_account (run_date, account_id, payload_hash, project_id, opened_on, filed_on, closed_on)
SELECT :run_date, account_id, payload_hash, project_id, opened_on, filed_on, closed_on
FROM (
    SELECT v.*,
           ROW_NUMBER() OVER (PARTITION BY account_id
                              ORDER BY updated_at DESC, payload_hash DESC) AS rn
    FROM wage_account_version v
    WHERE loaded_at <= :cutoff
) latest
WHERE rn = 1 AND deleted = 0;
