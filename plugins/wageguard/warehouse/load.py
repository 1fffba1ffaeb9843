"""Validating one landed batch and loading it: good rows become record
versions, bad rows go to quarantine with their reasons, the ledger gets the
counts, and the source watermark advances, all in one transaction. A batch
already loaded is not loaded again."""

from __future__ import annotations

import datetime as dt
import json
import logging
from functools import cache

from sqlalchemy import Connection, Engine, inspect, text

from wageguard.landing.store import now_text, read_batch
from wageguard.tables import BY_NAME
from wageguard.warehouse.sqlfiles import execute_many
from wageguard.warehouse.typed import VERSION_TABLE, typed_columns

log = logging.getLogger(__name__)

_META = ("payload_hash", "batch_id", "loaded_at", "bundle_day")
# A full pull of these is never empty in a working source: an empty one is an
# outage or a broken export, and loading it would wipe nothing but hide that.
NEVER_EMPTY_WHEN_FULL = {"projects", "wage_accounts", "wage_deposits", "enterprises",
                         "investment_projects", "fund_disbursements"}


class ReconciliationError(RuntimeError):
    pass


@cache
def _columns(engine: Engine, table: str) -> tuple[str, ...]:
    return tuple(c["name"] for c in inspect(engine).get_columns(table))


def _already_loaded(conn: Connection, batch_id: str) -> dict | None:
    row = conn.execute(
        text("SELECT source_table, pulled, loaded, quarantined, superseded, status "
             "FROM load_batch WHERE batch_id = :b"),
        {"b": batch_id},
    ).mappings().one()
    return dict(row) if row["status"] == "loaded" else None


def load_batch(engine: Engine, batch_id: str, *, max_bad_share, min_rows_for_share: int) -> dict:
    from wageguard.validate import BatchRejected, validate_table  # GX loads here

    # Validation (seconds of GX) runs outside any write transaction, so parallel
    # loads hold the embedded warehouse's single write lock only to write.
    with engine.connect() as conn:
        done = _already_loaded(conn, batch_id)
        if done:
            log.info("batch %s was loaded before: %s", batch_id, done)
            return {"batch_id": batch_id, **done}
        batch, records, hashes = read_batch(conn, batch_id)
    table = batch.source_table
    try:
        full_pull = batch.watermark_from is None
        outcome = validate_table(
            table, records, max_bad_share=float(max_bad_share),
            min_rows_for_share=min_rows_for_share,
            allow_empty=not (full_pull and table in NEVER_EMPTY_WHEN_FULL))
    except BatchRejected as rejected:
        _keep_rejected(engine, batch_id, table, rejected, hashes)
        raise
    target = VERSION_TABLE[table]
    columns = _columns(engine, target)  # reflection uses a connection of its own
    with engine.begin() as conn:
        if done := _already_loaded(conn, batch_id):  # a parallel retry won the race
            return {"batch_id": batch_id, **done}
        data_columns = [c for c in columns if c not in _META]
        loaded_at = now_text()
        spec = BY_NAME[table]
        good = {c: [row[c] for row in outcome.good] for c in spec.columns}
        typed = typed_columns(table, good, data_columns, (*spec.key, "updated_at", "deleted"),
                              [row.get("deleted") is True for row in outcome.good])
        meta = {"payload_hash": [hashes[p] for p in outcome.good_positions],
                "batch_id": [batch_id] * len(outcome.good),
                "loaded_at": [loaded_at] * len(outcome.good),
                "bundle_day": [batch.bundle_day] * len(outcome.good)}
        by_column = dict(zip(data_columns, typed, strict=True)) | meta
        versions = [dict(zip(columns, values, strict=True))
                    for values in zip(*(by_column[c] for c in columns), strict=True)]
        insert = text(
            f"INSERT INTO {target} ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)}) ON CONFLICT DO NOTHING"
        )
        execute_many(conn, insert, versions)
        _quarantine(conn, batch_id, table, outcome.quarantined, hashes)
        execute_many(conn, text(
            "INSERT INTO normalisation_change (batch_id, record_key, column_name, before_value, "
            "after_value, kind) VALUES (:b, :key, :column, :before, :after, :kind)"),
            [{"b": batch_id, **{k: (None if v is None else str(v)) for k, v in c.items()}}
             for c in outcome.changes])
        counts = {"pulled": outcome.pulled, "loaded": len(outcome.good),
                  "quarantined": len(outcome.quarantined), "superseded": outcome.superseded}
        if counts["pulled"] != batch.pulled or batch.pulled != (
            counts["loaded"] + counts["quarantined"] + counts["superseded"]
        ):
            raise ReconciliationError(
                f"{table} batch {batch_id}: landed {batch.pulled}, validated "
                f"{counts['pulled']}, loaded {counts['loaded']} + quarantined "
                f"{counts['quarantined']} + superseded {counts['superseded']}: they must agree"
            )
        conn.execute(
            text("UPDATE load_batch SET loaded = :l, quarantined = :q, superseded = :s, "
                 "status = 'loaded', loaded_at = :at, validation_summary = :v, "
                 "validation_docs = :docs WHERE batch_id = :b"),
            {"l": counts["loaded"], "q": counts["quarantined"], "s": counts["superseded"],
             "at": loaded_at, "v": json.dumps(outcome.summary, ensure_ascii=False, default=str),
             "docs": outcome.docs_html, "b": batch_id},
        )
        if batch.watermark_to:
            _advance_watermark(conn, table, batch.watermark_to, batch_id)
    log.info("%s: pulled %d = loaded %d + quarantined %d + superseded %d",
             table, counts["pulled"], counts["loaded"], counts["quarantined"],
             counts["superseded"])
    return {"batch_id": batch_id, "source_table": table, **counts}


def _quarantine(conn: Connection, batch_id: str, table: str, quarantined: list,
                hashes: list[str]) -> None:
    rows = [
        {"b": batch_id, "o": q.position, "t": table, "k": q.key,
         "r": json.dumps(q.reasons, ensure_ascii=False), "h": hashes[q.position],
         "p": json.dumps(q.raw, ensure_ascii=False, sort_keys=True)}
        for q in quarantined
    ]
    insert = text(
        "INSERT INTO quarantine (batch_id, ordinal, source_table, record_key, reasons, "
        "payload_hash, payload) VALUES (:b, :o, :t, :k, :r, :h, :p) ON CONFLICT DO NOTHING"
    )
    execute_many(conn, insert, rows)


def _keep_rejected(engine: Engine, batch_id: str, table: str, rejected, hashes) -> None:
    """A rejected batch loads nothing, but its quarantine is kept so that the
    data engineers can see what the source sent."""
    with engine.begin() as conn:
        _quarantine(conn, batch_id, table, rejected.outcome.quarantined, hashes)
        conn.execute(
            text("UPDATE load_batch SET status = 'rejected', quarantined = :q, "
                 "validation_summary = :v, validation_docs = :docs WHERE batch_id = :b"),
            {"q": len(rejected.outcome.quarantined),
             "v": json.dumps(rejected.outcome.summary, ensure_ascii=False, default=str),
             "docs": rejected.outcome.docs_html, "b": batch_id},
        )


def _advance_watermark(conn: Connection, table: str, watermark: str, batch_id: str) -> None:
    """Only forwards: an older batch loaded late must not rewind the pull."""
    held = conn.execute(
        text("SELECT watermark FROM source_watermark WHERE source_table = :t"), {"t": table}
    ).scalar()
    if held is not None and dt.datetime.fromisoformat(held) >= dt.datetime.fromisoformat(
        watermark
    ):
        return
    conn.execute(
        text("INSERT INTO source_watermark (source_table, watermark, batch_id) "
             "VALUES (:t, :w, :b) ON CONFLICT (source_table) DO UPDATE "
             "SET watermark = excluded.watermark, batch_id = excluded.batch_id"),
        {"t": table, "w": watermark, "b": batch_id},
    )
