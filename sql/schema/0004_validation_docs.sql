-- The GX Data Docs page (HTML) of each pull's validation, kept with its batch so
-- the night's export can publish it whichever worker validated the pull.
ALTER TABLE load_batch ADD COLUMN validation_docs TEXT;

-- What normalisation changed in each loaded record (NFKC, dates, amounts, …):
-- nothing typed by people is altered without a trace.
CREATE TABLE normalisation_change (
    batch_id        TEXT NOT NULL,
    record_key      TEXT,
    column_name     TEXT NOT NULL,
    before_value    TEXT,
    after_value     TEXT,
    kind            TEXT NOT NULL
);
CREATE INDEX normalisation_change_batch ON normalisation_change (batch_id);
