-- How far back nights can still be re-run: record versions no night on or
-- after the horizon can see are reclaimed (warehouse/retention.py), so an
-- older night could no longer be reproduced. One row, moved forward each night.
CREATE TABLE retention (
    id              SMALLINT PRIMARY KEY,   -- always 1
    horizon         DATE NOT NULL,          -- the oldest night that can still be re-run
    applied_at      TEXT NOT NULL
);
