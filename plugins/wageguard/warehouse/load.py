"""Validating one batch just landed and loading it: good rows become record
versions, bad rows go to quarantine with their reasons, the ledger gets the
counts, and the source watermark advances, all in one transaction.

The batch is read from the records as they landed, decoded once
(landing/store.py), not from the warehouse; it streams through in chunks
(validate/batch.py), so memory holds a chunk whatever the size of the pull;
rows are written the fast way each warehouse offers (db/bulk.py)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from array import array
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from functools import cache

from sqlalchemy import Connection, Engine, inspect, text

from wageguard.db.bulk import (
    bulk_work,
    indexes_built_after,
    lock_for_writing,
    refresh_statistics,
    rows_matching,
    stream_rows,
    write_cache,
    write_rows,
)
from wageguard.db.sqlfiles import execute_many
from wageguard.db.values import as_date
from wageguard.handover import Loaded
from wageguard.landing.packing import unpack
from wageguard.landing.store import Batch, LandedRecords, now_text, of_ordinals
from wageguard.tables import BY_NAME, SourceTable
from wageguard.validate import BatchRejected, BatchValidation
from wageguard.validate.batch import CHUNK
from wageguard.validate.split import ChunkVerdict, Rejection
from wageguard.warehouse.night import stage_seconds
from wageguard.warehouse.typed import typed_columns

log = logging.getLogger(__name__)

_META = ("payload_hash", "batch_id", "loaded_at", "bundle_day", "valid_to")
_CHANGE_COLUMNS = ("batch_id", "record_key", "column_name", "before_value", "after_value",
                   "kind")
_WARNING_COLUMNS = ("source_table", "payload_hash", "expectation", "column_name", "severity",
                    "value", "batch_id", "ordinal", "record_key")


class ReconciliationError(RuntimeError):
    pass


@cache
def _columns(engine: Engine, table: str) -> tuple[str, ...]:
    return tuple(c["name"] for c in inspect(engine).get_columns(table))


def load_batch(engine: Engine, batch: Batch, landed: LandedRecords, *, max_bad_share,
               min_rows_for_share: int) -> Loaded:
    """Validates and loads `batch` from `landed`, its records as they landed."""
    # Reading and normalising the pull (most of validating it) runs before the
    # transaction that writes it; on SQLite it still holds the write lock, as
    # every transaction there takes it at its start (warehouse/engine.py).
    started_at, started = now_text(), time.monotonic()
    spec = BY_NAME[batch.source_table]
    validation = BatchValidation(spec)
    # Validation numbers the records it is given; where each sits in the pull.
    ordinals = array("q")
    # One connection throughout: a bundle's landed rows are a temporary table of it.
    with engine.connect() as conn, ExitStack() as held:
        bundle = _bundle_plan(conn, batch) if spec.system == "devreform" else None
        to_read: Iterable[tuple[int, bytes, object]] = landed
        if bundle == "newer":
            held.enter_context(_landed_rows(conn, landed.marks))
            to_read = of_ordinals(landed, _to_judge(conn, spec))
        if bundle != "held":
            with bulk_work():
                for at, hashes, records in _chunks(to_read, CHUNK):
                    ordinals.extend(at)
                    validation.add(records, hashes)
        conn.commit()
        # Records served again as held were not read: a REST pull did not land them,
        # a bundle's rows still valid need no second look.
        unchanged = batch.unchanged if bundle is None else batch.pulled - validation.pulled
        full_pull = batch.watermark_from is None
        # A full pull of what the warehouse already holds, served again, is not empty.
        allow_empty = not (full_pull and spec.never_empty) or unchanged > 0
        columns = _columns(engine, spec.version_table)  # reflection uses a connection of its own
        seconds = {"validate": time.monotonic() - started, "load": 0.0}
        try:
            with conn.begin(), write_cache(conn):
                step = time.monotonic()
                writer = _VersionWriter(conn, batch, columns, ordinals)
                seconds["load"] += time.monotonic() - step
                _write_verdicts(conn, writer, validation, seconds)
                validation.judge(float(max_bad_share), min_rows_for_share, allow_empty)
                step = time.monotonic()
                if bundle == "newer":
                    _close_bundle_rows(conn, batch, spec)
                counts = _record_loaded(conn, batch, validation, unchanged)
                refresh_statistics(conn, [writer.target])
            seconds["load"] += time.monotonic() - step  # the commit included
        except BatchRejected:
            _keep_rejected(engine, batch, validation, ordinals)
            raise
    table = batch.source_table
    with engine.begin() as conn:
        stage_seconds(conn, batch.run_date, f"validate:{table}", started_at,
                      seconds["validate"], counts["pulled"],
                      counts["loaded"] + counts["quarantined"])
        stage_seconds(conn, batch.run_date, f"load:{table}", started_at, seconds["load"],
                      counts["loaded"], counts["loaded"])
    log.info("%s: pulled %d = loaded %d + quarantined %d + superseded %d + unchanged %d "
             "(validate %.1f s, load %.1f s)", table, counts["pulled"], counts["loaded"],
             counts["quarantined"], counts["superseded"], counts["unchanged"],
             seconds["validate"], seconds["load"])
    drift = validation.summary["fields"]
    if drift["unknown"] or drift["absent"]:
        log.warning("%s: the source serves fields wageguard does not know %s and none of "
                    "these descriptive ones %s: has its format changed? (tables.py)",
                    table, drift["unknown"], drift["absent"])
    if counts["warned"]:
        log.warning("%s: %d loaded records break descriptive checks (kept, see "
                    "record_warning): %s", table, counts["warned"],
                    ", ".join(f"{check} ({n})" for check, n in
                              validation.summary["warnings"].items()))
    return counts


def _write_verdicts(conn: Connection, writer: _VersionWriter, validation: BatchValidation,
                    seconds: dict[str, float]) -> None:
    """Each chunk's verdict written as validation gives it, the seconds of
    validating and of writing told apart; into an empty table, the indexes
    other than its key's built after the rows."""
    verdicts = validation.verdicts()
    deferred = indexes_built_after(conn, writer.target) if writer.into_empty else nullcontext()
    with bulk_work(), deferred:
        while True:
            step = time.monotonic()
            verdict = next(verdicts, None)
            seconds["validate"] += time.monotonic() - step
            if verdict is None:
                break
            step = time.monotonic()
            writer.write(verdict)
            seconds["load"] += time.monotonic() - step
        step = time.monotonic()  # the indexes deferred are built on leaving
    seconds["load"] += time.monotonic() - step


def _chunks(landed: Iterable[tuple[int, bytes, object]], size: int
            ) -> Iterator[tuple[list[int], list[bytes], list]]:
    """The landed records `size` at a time, each chunk as (ordinals, payload
    hashes, records)."""
    at: list[int] = []
    hashes: list[bytes] = []
    records: list = []
    for ordinal, digest, record in landed:
        at.append(ordinal)
        hashes.append(digest)
        records.append(record)
        if len(at) == size:
            yield at, hashes, records
            at, hashes, records = [], [], []
    if at:
        yield at, hashes, records


@contextmanager
def _landed_rows(conn: Connection, marks: Iterable[tuple[int, bytes]]) -> Iterator[None]:
    """A bundle's landed rows, (ordinal, payload hash) each, as the temporary
    table landed_row of the load's connection, for SQL to hold against the
    rows still valid. Only this load reads them: kept in the warehouse they
    were written and deleted every night, some 150,000 rows at 20,000
    projects, and on PostgreSQL a deleted row's room is free again only after
    VACUUM. Dropped on leaving, whatever happened."""
    conn.execute(text("CREATE TEMPORARY TABLE landed_row "
                      "(ordinal INTEGER PRIMARY KEY, payload_hash BYTEA NOT NULL)"))
    try:
        write_rows(conn, "landed_row", ("ordinal", "payload_hash"), marks, may_exist=False)
        # Asked which rows were judged already: a plan for rows a bulk write
        # left unseen would be a nested loop.
        refresh_statistics(conn, ["landed_row"])
        yield
    finally:
        conn.rollback()
        conn.execute(text("DROP TABLE IF EXISTS landed_row"))
        conn.commit()


def _to_judge(conn: Connection, spec: SourceTable) -> Iterator[int]:
    """The ordinals, in order, of a bundle's landed rows not judged already:
    a row the version table holds as still valid, or one quarantined before,
    needs no second look. One anti-join in the warehouse, read as it goes."""
    rows = stream_rows(conn, text(_not_judged(spec)), {"t": spec.name})
    return (ordinal for (ordinal,) in rows)


def _not_judged(spec: SourceTable) -> str:
    return ("SELECT l.ordinal FROM landed_row l "
            f"WHERE NOT EXISTS (SELECT 1 FROM {spec.version_table} v WHERE "
            "v.payload_hash = l.payload_hash AND v.valid_to IS NULL) "
            "AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.source_table = :t "
            "AND q.payload_hash = l.payload_hash) ORDER BY l.ordinal")


class _VersionWriter:
    """Writes each chunk's verdict: the good rows as typed versions, the
    quarantine, and what normalisation changed."""

    def __init__(self, conn: Connection, batch: Batch, columns: tuple[str, ...],
                 ordinals: array):
        self.conn, self.batch, self.ordinals = conn, batch, ordinals
        # A bundle's new row is valid until a later bundle no longer carries it.
        self.columns = tuple(c for c in columns if c != "valid_to")
        self.spec = BY_NAME[batch.source_table]
        self.target = self.spec.version_table
        self.data_columns = [c for c in columns if c not in _META]
        self.loaded_at = now_text()
        # Versions a warehouse already holds come again (re-pulls, a bundle
        # re-loaded) and are skipped; into an empty table, or a bundle day not
        # yet loaded, rows go in directly. Deciding that needs the table to
        # itself until commit.
        lock_for_writing(conn, self.target)
        where = "WHERE bundle_day = :d " if "bundle_day" in columns else ""
        self.may_exist = conn.execute(
            text(f"SELECT 1 FROM {self.target} {where}LIMIT 1"), {"d": batch.bundle_day}
        ).first() is not None
        self.into_empty = not self.may_exist and conn.execute(
            text(f"SELECT 1 FROM {self.target} LIMIT 1")).first() is None

    def write(self, verdict: ChunkVerdict) -> None:
        batch, n = self.batch, len(verdict.positions)
        typed = typed_columns(self.spec.name, verdict.columns, self.data_columns,
                              (*self.spec.key, "updated_at", "deleted"), verdict.tombstones)
        by_column = dict(zip(self.data_columns, typed, strict=True)) | {
            "payload_hash": verdict.payload_hashes, "batch_id": [batch.batch_id] * n,
            "loaded_at": [self.loaded_at] * n, "bundle_day": [batch.bundle_day] * n}
        write_rows(self.conn, self.target, self.columns,
                   zip(*(by_column[c] for c in self.columns), strict=True),
                   may_exist=self.may_exist)
        _quarantine(self.conn, batch, verdict.rejections, self.ordinals)
        write_rows(self.conn, "normalisation_change", _CHANGE_COLUMNS, (
            (batch.batch_id, c["key"], c["column"], _text(c["before"]), _text(c["after"]),
             c["kind"]) for c in verdict.changes), may_exist=False)
        # Like the quarantine, once per payload: a re-pull brings the same breaches.
        write_rows(self.conn, "record_warning", _WARNING_COLUMNS, (
            (batch.source_table, w.payload_hash, b.expectation, b.column, b.severity,
             _text(b.value), batch.batch_id, self.ordinals[w.position], w.key)
            for w in verdict.warnings for b in w.breaches), may_exist=True)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _quarantine(conn: Connection, batch: Batch, rejections: list[Rejection],
                ordinals: array) -> None:
    """Each rejected record with its reasons and its payload exactly as landed."""
    if not rejections:
        return
    held = dict(rows_matching(conn, "SELECT payload_hash, packed FROM payload", "payload_hash",
                              sorted({r.payload_hash for r in rejections})))
    execute_many(conn, text(
        "INSERT INTO quarantine (source_table, payload_hash, batch_id, ordinal, record_key, "
        "reasons, payload) VALUES (:t, :h, :b, :o, :k, :r, :p) ON CONFLICT DO NOTHING"),
        [{"t": batch.source_table, "h": r.payload_hash, "b": batch.batch_id,
          "o": ordinals[r.position], "k": r.key,
          "r": json.dumps(r.reasons, ensure_ascii=False),
          "p": unpack(conn, held[r.payload_hash])} for r in rejections])


def _bundle_plan(conn: Connection, batch: Batch) -> str:
    """A bundle newer than every bundle loaded moves its rows' validity on
    ("newer"); an older or the same one is already told by it ("held")."""
    newest = as_date(conn.execute(text(
        "SELECT MAX(bundle_day) FROM load_batch WHERE source_table = :t AND status = 'loaded'"),
        {"t": batch.source_table}).scalar())
    if newest is None or (batch.bundle_day is not None and batch.bundle_day > newest):
        return "newer"
    log.warning("%s bundle %s is not newer than %s, the newest loaded: its rows are held "
                "as the loaded bundles tell them", batch.source_table, batch.bundle_day, newest)
    return "held"


def _close_bundle_rows(conn: Connection, batch: Batch, spec: SourceTable) -> None:
    """Rows valid until this bundle that it no longer carries as they were: a row
    gone, changed (its key comes again in this bundle), or now quarantined."""
    t = spec.version_table
    again = " AND ".join(f"n.{column} = {t}.{column}" for column in spec.key)
    # Gone rows by set difference, which both warehouses do whole: PostgreSQL
    # runs a NOT IN list that outgrows work_mem as a scan of it for every row,
    # and SQLite a NOT EXISTS here as a scan of the landed rows.
    open_before = "valid_to IS NULL AND bundle_day < :day"
    for closed in (
        f"payload_hash IN (SELECT payload_hash FROM {t} WHERE {open_before} "
        "EXCEPT SELECT payload_hash FROM landed_row)",
        f"EXISTS (SELECT 1 FROM {t} n WHERE n.bundle_day = :day AND {again})",
    ):
        conn.execute(text(f"UPDATE {t} SET valid_to = :day WHERE {open_before} AND {closed}"),
                     {"day": batch.bundle_day})


def _record_loaded(conn: Connection, batch: Batch, validation: BatchValidation,
                   unchanged: int) -> Loaded:
    summary = validation.summary
    counts: Loaded = {
        "batch_id": batch.batch_id, "source_table": batch.source_table, "pulled": batch.pulled,
        "loaded": summary["good"], "quarantined": summary["quarantined"],
        "superseded": summary["superseded"], "warned": summary["warned"],
        "unchanged": unchanged}
    if summary["pulled"] + unchanged != batch.pulled or batch.pulled != (
        counts["loaded"] + counts["quarantined"] + counts["superseded"] + counts["unchanged"]
    ):
        raise ReconciliationError(
            f"{batch.source_table} batch {batch.batch_id}: pulled {batch.pulled}, validated "
            f"{summary['pulled']}, loaded {counts['loaded']} + quarantined "
            f"{counts['quarantined']} + superseded {counts['superseded']} + unchanged "
            f"{counts['unchanged']}: they must agree"
        )
    conn.execute(
        text("UPDATE load_batch SET loaded = :l, quarantined = :q, superseded = :s, "
             "warned = :w, unchanged = :u, status = 'loaded', loaded_at = :at, "
             "validation_summary = :v, validation_results = :r WHERE batch_id = :b"),
        {"l": counts["loaded"], "q": counts["quarantined"], "s": counts["superseded"],
         "w": summary["warned"], "u": unchanged,
         "at": now_text(), "v": _summary_json(summary),
         "r": validation.results_json(), "b": batch.batch_id},
    )
    if batch.watermark_to:
        _advance_watermark(conn, batch.source_table, batch.watermark_to, batch.batch_id)
    return counts


def _summary_json(summary: dict) -> str:
    """A pull's summary as kept: without its checks' results one by one, which
    validation_results keeps whole (some 5 KB a pull, every night)."""
    checks = {k: v for k, v in summary.get("validation", {}).items() if k != "expectations"}
    return json.dumps(summary | {"validation": checks}, ensure_ascii=False, default=str)


def _keep_rejected(engine: Engine, batch: Batch, validation: BatchValidation,
                   ordinals: array) -> None:
    """A rejected batch loads nothing, but its quarantine is kept so that the
    data engineers can see what the source sent."""
    with engine.begin() as conn:
        for verdict in validation.verdicts():
            _quarantine(conn, batch, verdict.rejections, ordinals)
        conn.execute(
            text("UPDATE load_batch SET status = 'rejected', quarantined = :q, "
                 "validation_summary = :v, validation_results = :r WHERE batch_id = :b"),
            {"q": validation.summary["quarantined"],
             "v": _summary_json(validation.summary),
             "r": validation.results_json(), "b": batch.batch_id},
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
