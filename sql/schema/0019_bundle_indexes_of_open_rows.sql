-- A dev-reform row that a later bundle no longer carries as it was is closed
-- (valid_to set) and never looked up by payload again: only the open rows are
-- held against a new bundle. Indexed alone, they stay as many as one bundle's
-- rows, where the whole index grew by every changed row, night after night.
-- valid_to stays in the key so the lookup reads the index alone.
DROP INDEX investment_project_open;
DROP INDEX fund_disbursement_open;
CREATE INDEX investment_project_open ON investment_project (payload_hash, valid_to)
    WHERE valid_to IS NULL;
CREATE INDEX fund_disbursement_open ON fund_disbursement (payload_hash, valid_to)
    WHERE valid_to IS NULL;

-- Since rows are valid over runs of bundles (0014), a bundle's rows are found
-- by code through the *_code_valid indexes; what still asks by bundle day
-- alone is served by the primary key, which begins with it.
DROP INDEX investment_project_code;
DROP INDEX fund_disbursement_code;
