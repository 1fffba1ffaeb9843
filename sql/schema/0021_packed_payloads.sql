-- Payloads kept packed: zstd with a dictionary trained for each source table
-- (landing/packing.py), about a fifth of their canonical JSON. The payloads
-- held so far are packed into the new table by this revision's step
-- (warehouse/migrations/versions/0021_packed_payloads.py), which then puts it
-- in the old one's place. On SQLite the table is its key's index (WITHOUT
-- ROWID, dropped on PostgreSQL by db/sqlfiles.py): a payload's hash was kept
-- twice, in the table and in its key's index, some 80 bytes a payload.
CREATE TABLE payload_dictionary (
    source_table    TEXT PRIMARY KEY,
    dictionary_id   BIGINT NOT NULL UNIQUE,     -- zstd's id, named by every frame packed with it
    trained_on      TEXT NOT NULL,              -- the pull whose new payloads trained it
    dictionary      BYTEA NOT NULL
);

CREATE TABLE payload_packed (
    payload_hash    TEXT PRIMARY KEY,           -- sha256 of the canonical JSON, as before
    batch_id        TEXT NOT NULL,
    ordinal         BIGINT NOT NULL,
    packed          BYTEA NOT NULL              -- a zstd frame of the canonical JSON
) WITHOUT ROWID;
