-- wageguard warehouse, schema version 1.
-- Runs unchanged on SQLite (the embedded default) and PostgreSQL: portable
-- types only (TEXT, DATE, BIGINT, SMALLINT), money in integer fen so sums are
-- exact on both, flags 0/1 in SMALLINT, timestamps as ISO-8601 text in +08:00
-- so that text order is time order.

-- Run ledger ---------------------------------------------------------------

-- One row per pull of one source table for one night.
CREATE TABLE load_batch (
    batch_id        TEXT PRIMARY KEY,
    run_date        DATE NOT NULL,
    source_table    TEXT NOT NULL,
    source          TEXT NOT NULL,          -- where it came from (URL or folder), no credentials
    pulled_at       TEXT NOT NULL,
    watermark_from  TEXT,                   -- updated_since sent; null = full pull
    watermark_to    TEXT,                   -- first page's server_time: the next pull's start
    bundle_day      DATE,                   -- dev-reform only
    pulled          BIGINT NOT NULL,
    loaded          BIGINT,
    quarantined     BIGINT,
    superseded      BIGINT,
    status          TEXT NOT NULL,          -- landed | loaded
    loaded_at       TEXT,
    validation_summary TEXT                 -- GX result, summary format (JSON)
);
CREATE INDEX load_batch_night ON load_batch (run_date, source_table);

-- Where each incremental pull resumes. Advanced in the transaction that loads
-- the data behind it, never before.
CREATE TABLE source_watermark (
    source_table    TEXT PRIMARY KEY,
    watermark       TEXT NOT NULL,
    batch_id        TEXT NOT NULL
);

-- One row per night that has published flags. knowledge_cutoff fixes which
-- record versions the night sees, so a re-run reproduces it exactly.
CREATE TABLE night (
    run_date          DATE PRIMARY KEY,
    knowledge_cutoff  TEXT NOT NULL,
    bundle_day        DATE,
    params            TEXT NOT NULL,
    first_published_at TEXT NOT NULL,
    last_published_at  TEXT NOT NULL
);

-- Stage timings and counts for run_report.json.
CREATE TABLE stage_run (
    run_date        DATE NOT NULL,
    stage           TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    seconds         DOUBLE PRECISION NOT NULL,
    rows_in         BIGINT,
    rows_out        BIGINT,
    PRIMARY KEY (run_date, stage)
);

-- Landing: what the sources said, untouched ----------------------------------

CREATE TABLE landing_record (
    batch_id        TEXT NOT NULL,
    ordinal         BIGINT NOT NULL,        -- position in the pull
    payload_hash    TEXT NOT NULL,          -- sha256 of the canonical JSON payload
    payload         TEXT NOT NULL,
    PRIMARY KEY (batch_id, ordinal)
);

-- A malformed payload is quarantined once, by the first batch that brought it;
-- pulling it again (a re-run, a full snapshot) adds nothing.
CREATE TABLE quarantine (
    source_table    TEXT NOT NULL,
    payload_hash    TEXT NOT NULL,
    batch_id        TEXT NOT NULL,
    ordinal         BIGINT NOT NULL,
    record_key      TEXT,
    reasons         TEXT NOT NULL,          -- JSON list of failed checks
    payload         TEXT NOT NULL,
    PRIMARY KEY (source_table, payload_hash)
);

-- Core: every version of every record, with when we first held it -----------
-- The version a night sees is the latest updated_at among those loaded at or
-- before the night's knowledge_cutoff.

CREATE TABLE project_version (
    project_id              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    payload_hash            TEXT NOT NULL,
    batch_id                TEXT NOT NULL,
    loaded_at               TEXT NOT NULL,
    deleted                 SMALLINT NOT NULL,
    investment_code         TEXT,
    permit_no               TEXT,
    name                    TEXT,
    district_code           TEXT,
    builder_name            TEXT,
    builder_credit_code     TEXT,
    contractor_name         TEXT,
    contractor_credit_code  TEXT,
    contract_amount_fen     BIGINT,
    contract_signed_on      DATE,
    started_on              DATE,
    planned_completion_on   DATE,
    completed_on            DATE,
    status                  TEXT,
    PRIMARY KEY (project_id, updated_at, payload_hash)
);

CREATE TABLE wage_account_version (
    account_id          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    payload_hash        TEXT NOT NULL,
    batch_id            TEXT NOT NULL,
    loaded_at           TEXT NOT NULL,
    deleted             SMALLINT NOT NULL,
    project_id          TEXT,
    bank_name           TEXT,
    account_no_masked   TEXT,
    opened_on           DATE,
    filed_on            DATE,
    closed_on           DATE,
    status              TEXT,
    PRIMARY KEY (account_id, updated_at, payload_hash)
);

CREATE TABLE wage_deposit_version (
    deposit_id              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    payload_hash            TEXT NOT NULL,
    batch_id                TEXT NOT NULL,
    loaded_at               TEXT NOT NULL,
    deleted                 SMALLINT NOT NULL,
    project_id              TEXT,
    contractor_credit_code  TEXT,
    form                    TEXT,
    amount_fen              BIGINT,
    deposited_on            DATE,
    valid_until             DATE,
    status                  TEXT,
    PRIMARY KEY (deposit_id, updated_at, payload_hash)
);

CREATE TABLE realname_month_version (
    project_id                  TEXT NOT NULL,
    month                       TEXT NOT NULL,   -- YYYY-MM
    updated_at                  TEXT NOT NULL,
    payload_hash                TEXT NOT NULL,
    batch_id                    TEXT NOT NULL,
    loaded_at                   TEXT NOT NULL,
    registered_workers          BIGINT,
    attending_workers           BIGINT,
    paid_workers                BIGINT,
    payroll_fen                 BIGINT,
    paid_via_contractor_fen     BIGINT,
    PRIMARY KEY (project_id, month, updated_at, payload_hash)
);

CREATE TABLE enterprise_version (
    credit_code             TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    payload_hash            TEXT NOT NULL,
    batch_id                TEXT NOT NULL,
    loaded_at               TEXT NOT NULL,
    deleted                 SMALLINT NOT NULL,
    name                    TEXT,
    former_names            TEXT,            -- JSON list, newest first
    legacy_registration_no  TEXT,
    registered_district_code TEXT,
    status                  TEXT,
    PRIMARY KEY (credit_code, updated_at, payload_hash)
);

CREATE TABLE list_entry_version (
    entry_id                TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    payload_hash            TEXT NOT NULL,
    batch_id                TEXT NOT NULL,
    loaded_at               TEXT NOT NULL,
    deleted                 SMALLINT NOT NULL,
    subject_type            TEXT,
    subject_name            TEXT,
    credit_code             TEXT,
    person_id_masked        TEXT,            -- masked on the way in, whatever the source sent
    list_type               TEXT,
    cause                   TEXT,
    decision_no             TEXT,
    listing_authority       TEXT,
    listing_authority_district_code TEXT,
    listed_on               DATE,
    expires_on              DATE,
    removed_on              DATE,
    removal_reason          TEXT,
    amount_owed_fen         BIGINT,
    workers_owed            BIGINT,
    PRIMARY KEY (entry_id, updated_at, payload_hash)
);

-- Dev-reform snapshots are whole bundles: a row belongs to its bundle day.
CREATE TABLE investment_project (
    bundle_day          DATE NOT NULL,
    investment_code     TEXT NOT NULL,       -- as typed (NFKC, trimmed)
    code_normalised     TEXT,                -- 4-6-2-2-6, null when it cannot be
    payload_hash        TEXT NOT NULL,
    batch_id            TEXT NOT NULL,
    name                TEXT,
    site_district_code  TEXT,
    owner_name          TEXT,
    owner_credit_code   TEXT,
    government_invested SMALLINT NOT NULL,
    total_investment_fen BIGINT,
    approved_on         DATE,
    status              TEXT,
    PRIMARY KEY (bundle_day, investment_code)
);

CREATE TABLE fund_disbursement (
    bundle_day          DATE NOT NULL,
    investment_code     TEXT NOT NULL,
    month               TEXT NOT NULL,
    code_normalised     TEXT,
    payload_hash        TEXT NOT NULL,
    batch_id            TEXT NOT NULL,
    planned_fen         BIGINT,
    actual_fen          BIGINT,
    labour_fen          BIGINT,
    PRIMARY KEY (bundle_day, investment_code, month)
);

-- Night marts: what night D saw, rebuilt whole on every run of D ------------

CREATE TABLE night_project (
    run_date                DATE NOT NULL,
    project_id              TEXT NOT NULL,
    payload_hash            TEXT NOT NULL,
    name                    TEXT,
    district_code           TEXT,
    investment_code         TEXT,
    builder_name            TEXT,
    builder_credit_code     TEXT,
    contractor_name         TEXT,
    contractor_credit_code  TEXT,
    contract_amount_fen     BIGINT,
    contract_signed_on      DATE,
    started_on              DATE,
    planned_completion_on   DATE,
    status                  TEXT,
    active                  SMALLINT NOT NULL,
    PRIMARY KEY (run_date, project_id)
);

CREATE TABLE night_account (
    run_date        DATE NOT NULL,
    account_id      TEXT NOT NULL,
    payload_hash    TEXT NOT NULL,
    project_id      TEXT,
    opened_on       DATE,
    filed_on        DATE,
    closed_on       DATE,
    PRIMARY KEY (run_date, account_id)
);
CREATE INDEX night_account_project ON night_account (run_date, project_id);

CREATE TABLE night_deposit (
    run_date        DATE NOT NULL,
    deposit_id      TEXT NOT NULL,
    payload_hash    TEXT NOT NULL,
    project_id      TEXT,
    form            TEXT,
    amount_fen      BIGINT,
    deposited_on    DATE,
    valid_until     DATE,
    status          TEXT,
    PRIMARY KEY (run_date, deposit_id)
);
CREATE INDEX night_deposit_project ON night_deposit (run_date, project_id);

CREATE TABLE night_realname_month (
    run_date                DATE NOT NULL,
    project_id              TEXT NOT NULL,
    month                   TEXT NOT NULL,
    payload_hash            TEXT NOT NULL,
    registered_workers      BIGINT,
    attending_workers       BIGINT,
    payroll_fen             BIGINT,
    paid_via_contractor_fen BIGINT,
    PRIMARY KEY (run_date, project_id, month)
);

CREATE TABLE night_enterprise (
    run_date                DATE NOT NULL,
    credit_code             TEXT NOT NULL,
    payload_hash            TEXT NOT NULL,
    name                    TEXT,
    former_names            TEXT,
    legacy_registration_no  TEXT,
    status                  TEXT,
    PRIMARY KEY (run_date, credit_code)
);

CREATE TABLE night_list_entry (
    run_date                DATE NOT NULL,
    entry_id                TEXT NOT NULL,
    payload_hash            TEXT NOT NULL,
    subject_type            TEXT,
    subject_name            TEXT,
    credit_code             TEXT,
    person_id_masked        TEXT,
    list_type               TEXT,
    cause                   TEXT,
    decision_no             TEXT,
    listing_authority       TEXT,
    listed_on               DATE,
    expires_on              DATE,
    removed_on              DATE,
    removal_reason          TEXT,
    PRIMARY KEY (run_date, entry_id)
);
CREATE INDEX night_list_entry_code ON night_list_entry (run_date, credit_code);

CREATE TABLE night_party (
    run_date        DATE NOT NULL,
    project_id      TEXT NOT NULL,
    role            TEXT NOT NULL,           -- builder | contractor
    name_as_typed   TEXT,
    code_as_typed   TEXT,
    credit_code     TEXT,                    -- resolved; null when unresolved
    status          TEXT NOT NULL,           -- resolved | ambiguous | absent
    method          TEXT,                    -- code | register | legacy | name
    detail          TEXT,
    PRIMARY KEY (run_date, project_id, role)
);

CREATE TABLE night_link (
    run_date        DATE NOT NULL,
    project_id      TEXT NOT NULL,
    investment_code TEXT NOT NULL,
    PRIMARY KEY (run_date, project_id)
);

CREATE TABLE night_required_deposit (
    run_date            DATE NOT NULL,
    project_id          TEXT NOT NULL,
    required_fen        BIGINT NOT NULL,
    multiplier          TEXT NOT NULL,
    exempt              SMALLINT NOT NULL,
    basis               TEXT NOT NULL,       -- why this multiplier / exemption
    PRIMARY KEY (run_date, project_id)
);

-- Flags --------------------------------------------------------------------

-- What every rule found on night D (one row per project and rule that holds).
CREATE TABLE flag_night (
    run_date        DATE NOT NULL,
    project_id      TEXT NOT NULL,
    rule            TEXT NOT NULL,
    base_severity   TEXT NOT NULL,
    raised_on       DATE NOT NULL,           -- first night of the current unbroken run
    rule_version    TEXT NOT NULL,
    detail          TEXT NOT NULL,           -- JSON: the facts behind the flag
    PRIMARY KEY (run_date, project_id, rule)
);

-- The blacklist as exported each night, for the next night's change list.
CREATE TABLE blacklist_export (
    run_date        DATE NOT NULL,
    entry_id        TEXT NOT NULL,
    row_hash        TEXT NOT NULL,
    PRIMARY KEY (run_date, entry_id)
);
