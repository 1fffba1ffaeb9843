-- Each distinct payload is kept once. A pull lands every record it served in
-- landing_record, but the payload itself only when the warehouse does not hold
-- it yet (null otherwise): a record re-served unchanged costs nothing kept.
-- When the pull is loaded, its new payloads move to `payload` and its landing
-- rows go: the pull's record of what it saw is its counts in load_batch (pulled,
-- and `unchanged`, the records re-served as they were). A pull that is refused
-- keeps its landing rows, for the engineers to read, and its payloads are
-- taken as new when served again.
CREATE TABLE payload (
    payload_hash    TEXT PRIMARY KEY,       -- sha256 of the canonical JSON
    source_table    TEXT NOT NULL,
    batch_id        TEXT NOT NULL,          -- the first loaded pull that brought it
    ordinal         BIGINT NOT NULL,        -- its position in that pull
    payload         TEXT NOT NULL
);

INSERT INTO payload (payload_hash, source_table, batch_id, ordinal, payload)
SELECT payload_hash, source_table, batch_id, ordinal, payload
FROM (
    SELECT l.payload_hash, b.source_table, l.batch_id, l.ordinal, l.payload,
           ROW_NUMBER() OVER (PARTITION BY l.payload_hash
                              ORDER BY b.pulled_at, l.batch_id, l.ordinal) AS rn
    FROM landing_record l
    JOIN load_batch b ON b.batch_id = l.batch_id
    WHERE b.status = 'loaded'
) first_seen
WHERE rn = 1;

-- Landing rows now hold a payload only when it is new; the loaded pulls' rows
-- have moved to `payload`.
CREATE TABLE landing_record_pending (
    batch_id        TEXT NOT NULL,
    ordinal         BIGINT NOT NULL,
    payload_hash    TEXT NOT NULL,
    payload         TEXT,
    PRIMARY KEY (batch_id, ordinal)
);
INSERT INTO landing_record_pending (batch_id, ordinal, payload_hash, payload)
SELECT l.batch_id, l.ordinal, l.payload_hash, l.payload
FROM landing_record l
JOIN load_batch b ON b.batch_id = l.batch_id
WHERE b.status <> 'loaded';
DROP TABLE landing_record;
ALTER TABLE landing_record_pending RENAME TO landing_record;
CREATE INDEX landing_record_hash ON landing_record (payload_hash);

-- Records a pull re-served exactly as the warehouse already held them.
ALTER TABLE load_batch ADD COLUMN unchanged BIGINT NOT NULL DEFAULT 0;
