-- A pull's new payloads go into `payload` as the pull lands, so each is written
-- once; before, it was landed, read back, copied to `payload` when the pull was
-- loaded, and deleted. A landing row now only points at its payload.
-- payload.batch_id is the first loaded pull that brought the payload, or, while
-- no pull that brought it is loaded, the last one that landed it: a re-served
-- record counts as held (`unchanged`) only once that pull is loaded, so the
-- payloads of a refused pull are taken as new when served again, as before.
INSERT INTO payload (payload_hash, source_table, batch_id, ordinal, payload)
SELECT l.payload_hash, b.source_table, l.batch_id, l.ordinal, l.payload
FROM landing_record l
JOIN load_batch b ON b.batch_id = l.batch_id
WHERE l.payload IS NOT NULL
ON CONFLICT DO NOTHING;

CREATE TABLE landing_record_pointers (
    batch_id        TEXT NOT NULL,
    ordinal         BIGINT NOT NULL,
    payload_hash    TEXT NOT NULL,
    PRIMARY KEY (batch_id, ordinal)
);
INSERT INTO landing_record_pointers (batch_id, ordinal, payload_hash)
SELECT batch_id, ordinal, payload_hash FROM landing_record;
-- landing_record_hash goes with it: nothing looks a landing row up by its hash.
DROP TABLE landing_record;
ALTER TABLE landing_record_pointers RENAME TO landing_record;
