-- Projects as night :run_date knew them: for each project the version with the
-- latest updated_at among those loaded by :cutoff; a tombstone voids it.
-- `active` is the scope of every rule (rules.md, "Which projects are in scope").
INSERT INTO night_project (
    run_date, project_id, payload_hash, name, district_code, investment_code,
    builder_name, builder_credit_code, contractor_name, contractor_credit_code,
    contract_amount_fen, contract_signed_on, started_on, planned_completion_on, status, active
)
SELECT
    :run_date, project_id, payload_hash, name, district_code, investment_code,
    builder_name, builder_credit_code, contractor_name, contractor_credit_code,
    contract_amount_fen, contract_signed_on, started_on, planned_completion_on, status,
    CASE
        WHEN status IN ('under_construction', 'suspended') THEN 1
        WHEN status = 'pending' AND contract_signed_on <= :run_date THEN 1
        ELSE 0
    END
FROM (
    SELECT v.*,
           ROW_NUMBER() OVER (PARTITION BY project_id
                              ORDER BY updated_at DESC, payload_hash DESC) AS rn
    FROM project_version v
    WHERE loaded_at <= :cutoff
) latest
WHERE rn = 1 AND deleted = 0;
