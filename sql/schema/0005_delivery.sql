-- The delivery ledger: each district's list of night D, e-mailed to each of its
-- inspectors. A row is (night, district, recipient) and says how its last try
-- went, so a re-run sends only what has not gone out yet, and the engineers see
-- every failure and every district that had nobody to send to.
CREATE TABLE delivery (
    run_date          DATE NOT NULL,
    district_code     TEXT NOT NULL,
    recipient         TEXT NOT NULL,          -- e-mail address; '' for no_recipient
    status            TEXT NOT NULL,          -- sent | failed | no_recipient
    attempts          INTEGER NOT NULL,       -- SMTP attempts over every try
    last_error        TEXT,                   -- why the last try failed; null once sent
    sent_at           TEXT,                   -- when it last went out; kept if a re-send fails
    message_id        TEXT,                   -- Message-ID of the last message tried
    attachment_sha256 TEXT,                   -- of the workbook last tried
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (run_date, district_code, recipient)
);
CREATE INDEX delivery_status ON delivery (run_date, status);
