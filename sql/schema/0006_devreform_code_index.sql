-- GI1 and the project links look a bundle's rows up by normalised investment
-- code; without these indexes GI1 scans the whole bundle once per linked
-- project, which takes minutes at province scale.
CREATE INDEX investment_project_code ON investment_project (bundle_day, code_normalised);
CREATE INDEX fund_disbursement_code ON fund_disbursement (bundle_day, code_normalised);
