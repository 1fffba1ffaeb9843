-- Each exported blacklist row is kept as it went out, beside its hash, so that
-- the next export's changes.csv can give a removed or changed entry's previous
-- fields (sql/marts/blacklist_changes.sql). A row exported before this version
-- takes its fields from its night's list entries while that night's snapshot
-- is kept (the latest published night's is); otherwise only its hash is known.
ALTER TABLE blacklist_export ADD COLUMN subject_type TEXT;
ALTER TABLE blacklist_export ADD COLUMN subject_name TEXT;
ALTER TABLE blacklist_export ADD COLUMN credit_code TEXT;
ALTER TABLE blacklist_export ADD COLUMN person_id_masked TEXT;
ALTER TABLE blacklist_export ADD COLUMN list_type TEXT;
ALTER TABLE blacklist_export ADD COLUMN cause TEXT;
ALTER TABLE blacklist_export ADD COLUMN decision_no TEXT;
ALTER TABLE blacklist_export ADD COLUMN listing_authority TEXT;
ALTER TABLE blacklist_export ADD COLUMN listed_on DATE;
ALTER TABLE blacklist_export ADD COLUMN expires_on DATE;
UPDATE blacklist_export SET
    (subject_type, subject_name, credit_code, person_id_masked, list_type, cause,
     decision_no, listing_authority, listed_on, expires_on) =
    (SELECT e.subject_type, e.subject_name, e.credit_code, e.person_id_masked, e.list_type,
            e.cause, e.decision_no, e.listing_authority, e.listed_on, e.expires_on
     FROM night_list_entry e
     WHERE e.run_date = blacklist_export.run_date AND e.entry_id = blacklist_export.entry_id);
