-- Dev-reform rows as versions valid over a run of bundles, not a copy per
-- bundle: the exchange sends its whole snapshot every day, and most rows are
-- the same as the day before. A row is valid from its bundle_day (the first
-- bundle that carried it as it is) until valid_to (the first bundle that no
-- longer did; null while the newest bundle still does). The rows of bundle B
-- are those with bundle_day <= B AND (valid_to IS NULL OR valid_to > B).
ALTER TABLE investment_project ADD COLUMN valid_to DATE;
ALTER TABLE fund_disbursement ADD COLUMN valid_to DATE;

-- Rows loaded a bundle at a time until now are each valid for their own bundle.
UPDATE investment_project SET valid_to = (
    SELECT MIN(b.bundle_day) FROM load_batch b
    WHERE b.source_table = 'investment_projects' AND b.status = 'loaded'
      AND b.bundle_day > investment_project.bundle_day);
UPDATE fund_disbursement SET valid_to = (
    SELECT MIN(b.bundle_day) FROM load_batch b
    WHERE b.source_table = 'fund_disbursements' AND b.status = 'loaded'
      AND b.bundle_day > fund_disbursement.bundle_day);

-- The rows of a bundle are found by code, then by the bundles they are valid
-- over: GI1 and the links ask once per linked project.
CREATE INDEX investment_project_code_valid ON investment_project (code_normalised, bundle_day);
CREATE INDEX fund_disbursement_code_valid ON fund_disbursement (code_normalised, month);

-- A new bundle is held against the rows still valid, by payload.
CREATE INDEX investment_project_open ON investment_project (payload_hash, valid_to);
CREATE INDEX fund_disbursement_open ON fund_disbursement (payload_hash, valid_to);
