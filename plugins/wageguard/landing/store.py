"""Writing a pull into the landing zone as one batch.

Each record is kept as canonical JSON with its sha256, so every version the
warehouse holds, and every flag built on it, can be traced to the exact
payload a source served. Each distinct payload is written once, into
`payload`, as the pull lands, packed (landing/packing.py). A record a REST
source re-serves exactly as a loaded pull brought it is only counted
(`unchanged`): validating and loading it again would change nothing. A
dev-reform bundle is a whole snapshot, so every row lands, its payload only
when new. A pull streams through in chunks: landing writes records as they
come, and notes which of them landed (`Landed`, on disk beside the task, not
in the warehouse), so that validating the pull reads the records as they
came, decoded once, never read back from the warehouse and parsed again, and
loading a bundle holds what it landed against the rows still valid
(warehouse/load.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import msgspec
from sqlalchemy import Connection, text

from wageguard.db.bulk import (
    bulk_work,
    rows_matching,
    write_cache,
    written_in_key_order,
)
from wageguard.landing.packing import Packer
from wageguard.sources.spool import Spool
from wageguard.tables import BY_NAME

# The canonical form every stored hash was taken over: this encoder's output, in UTF-8.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
# msgspec's compiled encoder writes the same bytes for every JSON value but a
# float (it spells 1e16 and NaN otherwise), in under half the time. A record
# that may hold a float, which its MessagePack encoding shows by the float
# marker (compiled too, and cheaper than walking the record), or one msgspec
# refuses, goes the old way. tests/test_canonical.py holds the two to the same
# bytes.
_COMPILED = msgspec.json.Encoder(order="sorted")
_FLOAT_PROBE = msgspec.msgpack.Encoder()
_FLOAT64 = b"\xcb"
_PAYLOAD_COLUMNS = ("payload_hash", "batch_id", "ordinal", "packed")
# Records hashed and looked up against the held payloads at a time.
_LOOKUP = 2000


def canonical_bytes(record: object) -> bytes:
    """The record's canonical JSON, as hashed and landed."""
    try:
        if _FLOAT64 not in _FLOAT_PROBE.encode(record):
            return _COMPILED.encode(record)
    except (TypeError, OverflowError):  # a key that is not text, an int past 64 bits
        pass
    return _CANONICAL.encode(record).encode("utf-8")


def canonical(record: object) -> str:
    return canonical_bytes(record).decode("utf-8")


def hash_of(payload: bytes) -> bytes:
    """The sha256 a payload (canonical JSON in UTF-8) is kept under: its 32
    bytes, which the warehouse stores as they are (half the hex's room, in
    every table and index that holds one); shown as hex wherever people read it."""
    return hashlib.sha256(payload).digest()


def payload_hash(payload: str) -> bytes:
    return hash_of(payload.encode("utf-8"))


def encoded(records: list) -> tuple[list[bytes], list[bytes]]:
    """The records' canonical JSON and its sha256, as landed."""
    payloads = [canonical_bytes(record) for record in records]
    return payloads, list(map(hash_of, payloads))


def now_text() -> str:
    """Wall time as sortable text. Microseconds keep two batches of one night
    apart; +08:00 matches every other timestamp in the warehouse."""
    tz = dt.timezone(dt.timedelta(hours=8))
    return dt.datetime.now(tz).isoformat(timespec="microseconds")


class Landed:
    """Which records of a pull landed: each one's ordinal and payload hash,
    noted on disk as the pull lands, whatever its size."""

    def __init__(self) -> None:
        self._marks = Spool()

    def add(self, marks: list[tuple[int, bytes]]) -> None:
        self._marks.add(marks)

    def records(self, pull: Iterable) -> LandedRecords:
        return LandedRecords(self._marks, pull)


class LandedRecords:
    """A pull's landed records, as validating it reads them once: (ordinal in
    the pull, payload hash, record), in pull order, the records of `pull` read
    again. `marks`, the (ordinal, payload hash) of each, reads as often as asked."""

    def __init__(self, marks: Spool, pull: Iterable) -> None:
        self.marks, self._pull = marks, pull

    def __iter__(self) -> Iterator[tuple[int, bytes, object]]:
        pulled = enumerate(self._pull)
        for ordinal, digest in self.marks:
            for at, record in pulled:
                if at == ordinal:
                    yield ordinal, digest, record
                    break


def of_ordinals(items: Iterable[tuple], ordinals: Iterator[int]) -> Iterator[tuple]:
    """Those of `items`, tuples led by their ordinal in the pull, whose ordinal
    `ordinals` gives; both in pull order."""
    wanted = next(ordinals, None)
    for item in items:
        if wanted is None:
            return
        if item[0] == wanted:
            yield item
            wanted = next(ordinals, None)


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
    unchanged: int = 0  # records re-served exactly as held, not landed again


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
    landed: Landed | None = None,
) -> Batch:
    """Lands `records` as a new batch of night `run_date`; `landed`, when
    given, notes which of them landed, for validating the pull (warehouse/load.py)."""
    batch_id = f"{run_date:%Y%m%d}-{source_table}-{uuid.uuid4().hex[:12]}"
    snapshot = BY_NAME[source_table].system == "devreform"
    packer = Packer(conn, source_table, batch_id)
    pulled = unchanged = 0
    with (bulk_work(), write_cache(conn),
          written_in_key_order(conn, "payload", _PAYLOAD_COLUMNS,
                               "payload_hash, ordinal") as write_payloads):
        for chunk in _chunks(records, _LOOKUP):
            payloads, hashes = encoded(chunk)
            # Asked before the chunk is written: PostgreSQL takes no query mid-COPY.
            owners = _owners(conn, sorted(set(hashes)))
            new: dict[bytes, tuple[int, bytes]] = {}
            adopted: dict[bytes, int] = {}
            kept: list[tuple[int, bytes]] = []
            for ordinal, digest, payload in zip(range(pulled, pulled + len(chunk)), hashes,
                                                payloads, strict=True):
                owner = owners.get(digest)
                if owner is None:
                    if digest not in new:
                        new[digest] = (ordinal, payload)
                elif owner[1]:  # brought by a loaded pull
                    if not snapshot:
                        unchanged += 1
                        continue
                elif owner[0] != batch_id:
                    adopted.setdefault(digest, ordinal)
                kept.append((ordinal, digest))
            packed = packer.pack([payload for _, payload in new.values()])
            # A payload repeated in a later chunk is not found held yet, and is
            # written again: its first ordinal is kept.
            write_payloads((digest, batch_id, ordinal, body) for (digest, (ordinal, _)), body
                           in zip(new.items(), packed, strict=True))
            if adopted:
                # Held, but only by pulls not loaded (refused, or never loaded):
                # this pull brings it now.
                conn.execute(text("UPDATE payload SET batch_id = :b, ordinal = :o "
                                  "WHERE payload_hash = :h"),
                             [{"b": batch_id, "o": o, "h": h} for h, o in adopted.items()])
            if landed is not None:
                landed.add(kept)
            pulled += len(chunk)
    batch = Batch(
        batch_id=batch_id,
        run_date=run_date,
        source_table=source_table,
        source=source,
        watermark_from=watermark_from,
        watermark_to=watermark_to,
        bundle_day=bundle_day,
        pulled=pulled,
        unchanged=unchanged,
    )
    conn.execute(
        text(
            "INSERT INTO load_batch (batch_id, run_date, source_table, source, pulled_at, "
            "watermark_from, watermark_to, bundle_day, pulled, unchanged, status) VALUES "
            "(:b, :d, :t, :s, :at, :wf, :wt, :bd, :n, :u, 'landed')"
        ),
        {
            "b": batch.batch_id, "d": run_date, "t": source_table, "s": source,
            "at": now_text(), "wf": watermark_from, "wt": watermark_to,
            "bd": bundle_day, "n": pulled, "u": unchanged,
        },
    )
    return batch


def _owners(conn: Connection, hashes: list[bytes]) -> dict[bytes, tuple[str, bool]]:
    """Of `hashes`, those `payload` holds: the pull it names and whether that
    pull is loaded."""
    rows = rows_matching(conn, "SELECT p.payload_hash, p.batch_id, b.status FROM payload p "
                         "LEFT JOIN load_batch b ON b.batch_id = p.batch_id",
                         "p.payload_hash", hashes) if hashes else []
    return {digest: (batch, status == "loaded") for digest, batch, status in rows}


def _chunks(records: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
