-- Who holds the warehouse (wageguard/warehouse/lock.py). The run that merges
-- night D holds it until D is published: merge, rules and export are separate
-- tasks, maybe on separate machines, so the hold is this row, handed from
-- stage to stage by its token, and not a connection. A delivery of night D
-- holds night D's delivery the same way. One row per purpose and night: a
-- night's row keeps the token of its last merge, so a stage of a run whose
-- merge was taken over knows it.
CREATE TABLE night_lock (
    purpose         TEXT NOT NULL,          -- night (merge to publish) | deliver
    run_date        DATE NOT NULL,
    token           TEXT NOT NULL,          -- the run that holds or held it
    host            TEXT NOT NULL,          -- of the process in the run's stage, or last in one
    pid             BIGINT NOT NULL,
    since           TEXT NOT NULL,          -- when the run took it
    touched_at      TEXT NOT NULL,          -- when the run was last heard from
    state           TEXT NOT NULL,          -- working | waiting (between stages) | failed | done
    PRIMARY KEY (purpose, run_date)
);

-- delivery.status also takes `sending`: recorded before a message goes out,
-- so a message a stopped run may have sent is known (delivery/ledger.py).
