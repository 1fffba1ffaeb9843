-- Real-name monthly summaries as night :run_date knew them, keyed by project
-- and month (latest version by :cutoff).
INSERT INTO night_realname_month (run_date, project_id, month, payload_hash, registered_workers,
                                  attending_workers, payroll_fen, paid_via_contractor_fen)
SELECT :run_date, project_id, month, payload_hash, registered_workers,
       attending_workers, payroll_fen, paid_via_contractor_fen
FROM (
    SELECT v.*,
           ROW_NUMBER() OVER (PARTITION BY project_id, month
                              ORDER BY updated_at DESC, payload_hash DESC) AS rn
    FROM realname_month_version v
    WHERE loaded_at <= :cutoff
) latest
WHERE rn = 1;
