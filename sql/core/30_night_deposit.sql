-- Wage deposits and the guarantees that replace them, as night :run_date knew
-- them (latest version by :cutoff; tombstoned deposits never existed).
INSERT INTO night_deposit (run_date, deposit_id, payload_hash, project_id, form, amount_fen,
                           deposited_on, valid_until, status)
SELECT :run_date, deposit_id, payload_hash, project_id, form, amount_fen,
       deposited_on, valid_until, status
FROM (
    SELECT v.*,
           ROW_NUMBER() OVER (PARTITION BY deposit_id
                              ORDER BY updated_at DESC, payload_hash DESC) AS rn
    FROM wage_deposit_version v
    WHERE loaded_at <= :cutoff
) latest
WHERE rn = 1 AND deleted = 0;
