-- `wageguard why` follows a record version to the payload that brought it by
-- its hash; without this index that is a scan of the whole landing zone.
CREATE INDEX landing_record_hash ON landing_record (payload_hash);
