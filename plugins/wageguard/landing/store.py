"""Writing a pull into the landing zone as one batch, and reading it back.

Each record is kept as canonical JSON with its sha256, so every version the
warehouse holds, and every flag built on it, can be traced to the exact
payload a source served."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, text

from wageguard.warehouse.sqlfiles import execute_many
from wageguard.warehouse.values import as_date


def canonical(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def payload_hash(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def now_text() -> str:
    """Wall time as sortable text. Microseconds keep two batches of one night
    apart; +08:00 matches every other timestamp in the warehouse."""
    tz = dt.timezone(dt.timedelta(hours=8))
    return dt.datetime.now(tz).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Batch:
    batch_id: str
    run_date: dt.date
    source_table: str
    source: str
    watermark_from: str | None
    watermark_to: str | None
    bundle_day: dt.date | None
    pulled: int



def land(
    conn: Connection,
    *,
    run_date: dt.date,
    source_table: str,
    source: str,
    records: Iterable[dict],
    watermark_from: str | None = None,
    watermark_to: str | None = None,
    bundle_day: dt.date | None = None,
) -> Batch:
    rows = []
    for ordinal, record in enumerate(records):
        payload = canonical(record)
        rows.append({"o": ordinal, "h": payload_hash(payload), "p": payload})
    batch = Batch(
        batch_id=f"{run_date:%Y%m%d}-{source_table}-{uuid.uuid4().hex[:12]}",
        run_date=run_date,
        source_table=source_table,
        source=source,
        watermark_from=watermark_from,
        watermark_to=watermark_to,
        bundle_day=bundle_day,
        pulled=len(rows),
    )
    conn.execute(
        text(
            "INSERT INTO load_batch (batch_id, run_date, source_table, source, pulled_at, "
            "watermark_from, watermark_to, bundle_day, pulled, status) VALUES "
            "(:b, :d, :t, :s, :at, :wf, :wt, :bd, :n, 'landed')"
        ),
        {
            "b": batch.batch_id, "d": run_date, "t": source_table, "s": source,
            "at": now_text(), "wf": watermark_from, "wt": watermark_to,
            "bd": bundle_day, "n": len(rows),
        },
    )
    insert = text(
        "INSERT INTO landing_record (batch_id, ordinal, payload_hash, payload) "
        "VALUES (:b, :o, :h, :p)"
    )
    for row in rows:
        row["b"] = batch.batch_id
    execute_many(conn, insert, rows)
    return batch


def read_batch(conn: Connection, batch_id: str) -> tuple[Batch, list[dict], list[str]]:
    """The batch, its records in pull order, and each record's payload hash."""
    meta = conn.execute(
        text(
            "SELECT batch_id, run_date, source_table, source, watermark_from, watermark_to, "
            "bundle_day, pulled FROM load_batch WHERE batch_id = :b"
        ),
        {"b": batch_id},
    ).one()
    batch = Batch(
        batch_id=meta.batch_id,
        run_date=as_date(meta.run_date),
        source_table=meta.source_table,
        source=meta.source,
        watermark_from=meta.watermark_from,
        watermark_to=meta.watermark_to,
        bundle_day=as_date(meta.bundle_day) if meta.bundle_day else None,
        pulled=meta.pulled,
    )
    rows = conn.execute(
        text(
            "SELECT payload_hash, payload FROM landing_record WHERE batch_id = :b "
            "ORDER BY ordinal"
        ),
        {"b": batch_id},
    ).all()
    return batch, [json.loads(r.payload) for r in rows], [r.payload_hash for r in rows]
