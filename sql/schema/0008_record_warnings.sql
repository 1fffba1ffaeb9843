-- Records kept although they break a warning (or info) expectation: a blank
-- bank name, a cause nobody typed. The rules never read these columns, so the
-- record is loaded (without the breached value) and the breach is kept here,
-- once per payload like the quarantine: pulling it again adds nothing.
-- Which of night D's records carry warnings: join a night_* table's
-- payload_hash with (source_table, payload_hash).
CREATE TABLE record_warning (
    source_table    TEXT NOT NULL,
    payload_hash    TEXT NOT NULL,
    expectation     TEXT NOT NULL,          -- e.g. expect_column_values_to_not_be_null(bank_name)
    column_name     TEXT,                   -- null when the check reads several columns
    severity        TEXT NOT NULL,          -- warning | info
    value           TEXT,                   -- what the check saw, after normalisation
    batch_id        TEXT NOT NULL,          -- the first pull that brought it
    ordinal         BIGINT NOT NULL,
    record_key      TEXT,
    PRIMARY KEY (source_table, payload_hash, expectation)
);
CREATE INDEX record_warning_batch ON record_warning (batch_id);

-- Records loaded with warnings, per pull (counted among `loaded`).
ALTER TABLE load_batch ADD COLUMN warned BIGINT;
