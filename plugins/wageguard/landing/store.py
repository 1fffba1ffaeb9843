"""Writing a pull into the landing zone as one batch, and reading it back.

Each record is kept as canonical JSON with its sha256, so every version the
warehouse holds, and every flag built on it, can be traced to the exact
payload a source served. A pull streams through in chunks both ways: landing
writes records as they come, and a batch is read back a chunk at a time."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, text

from wageguard.warehouse.bulk import bulk_work, write_rows
from wageguard.warehouse.values import as_date

# One encoder for every record: json.dumps with options builds a new one per call.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_LANDING_COLUMNS = ("batch_id", "ordinal", "payload_hash", "payload")


def canonical(record: object) -> str:
    return _CANONICAL.encode(record)


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
    records: Iterable,
    watermark_from: str | None = None,
    watermark_to: str | None = None,
    bundle_day: dt.date | None = None,
) -> Batch:
    batch_id = f"{run_date:%Y%m%d}-{source_table}-{uuid.uuid4().hex[:12]}"
    pulled = 0

    def rows() -> Iterator[tuple]:
        nonlocal pulled
        for ordinal, record in enumerate(records):
            payload = canonical(record)
            pulled = ordinal + 1
            yield batch_id, ordinal, payload_hash(payload), payload

    with bulk_work():
        write_rows(conn, "landing_record", _LANDING_COLUMNS, rows(), may_exist=False)
    batch = Batch(
        batch_id=batch_id,
        run_date=run_date,
        source_table=source_table,
        source=source,
        watermark_from=watermark_from,
        watermark_to=watermark_to,
        bundle_day=bundle_day,
        pulled=pulled,
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
            "bd": bundle_day, "n": pulled,
        },
    )
    return batch


def read_batch(conn: Connection, batch_id: str) -> Batch:
    meta = conn.execute(
        text(
            "SELECT batch_id, run_date, source_table, source, watermark_from, watermark_to, "
            "bundle_day, pulled FROM load_batch WHERE batch_id = :b"
        ),
        {"b": batch_id},
    ).one()
    return Batch(
        batch_id=meta.batch_id,
        run_date=as_date(meta.run_date),
        source_table=meta.source_table,
        source=meta.source,
        watermark_from=meta.watermark_from,
        watermark_to=meta.watermark_to,
        bundle_day=as_date(meta.bundle_day) if meta.bundle_day else None,
        pulled=meta.pulled,
    )


def landed_records(conn: Connection, batch: Batch, chunk: int) -> Iterator[tuple[list, list]]:
    """The batch's records in pull order, `chunk` at a time, each chunk as
    (payload hashes, records)."""
    select = text(
        "SELECT payload_hash, payload FROM landing_record WHERE batch_id = :b "
        "AND ordinal >= :lo AND ordinal < :hi ORDER BY ordinal"
    )
    for lo in range(0, batch.pulled, chunk):
        rows = conn.execute(select, {"b": batch.batch_id, "lo": lo, "hi": lo + chunk}).all()
        # One parse for the chunk: a JSON array of the payloads as landed.
        yield [r[0] for r in rows], json.loads("[" + ",".join(r[1] for r in rows) + "]")
