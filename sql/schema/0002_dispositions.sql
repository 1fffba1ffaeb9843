-- wageguard warehouse, schema version 2: inspectors' dispositions on flags
-- (rules.md, "Flag lifecycle"). Portable as 0001: SQLite and PostgreSQL alike.

-- Every disposition ever recorded on a flag occurrence (project_id, rule,
-- raised_on as in flag_night). The pipeline never deletes or rewrites these
-- rows, so they survive every re-run of every night. Recording again appends:
-- the highest seq of an occurrence is in force, the rows below it are its
-- history. seq is a per-occurrence counter rather than a timestamp because
-- timestamps can tie within one transaction, and rather than an identity
-- column because SQLite and PostgreSQL spell those differently.
CREATE TABLE disposition (
    project_id      TEXT NOT NULL,
    rule            TEXT NOT NULL,
    raised_on       DATE NOT NULL,
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,           -- verified | exempted | false_positive
    until           DATE,                    -- exempted only: hidden on nights up to and including it
    reason          TEXT,                    -- required for exempted and false_positive
    inspector       TEXT,
    source          TEXT NOT NULL,           -- command, or the inbox workbook's name as processed
    recorded_at     TEXT NOT NULL,
    PRIMARY KEY (project_id, rule, raised_on, seq),
    CHECK (kind IN ('verified', 'exempted', 'false_positive')),
    CHECK ((kind = 'exempted') = (until IS NOT NULL))
);
