"""Payloads kept compressed: zstd, with a dictionary trained for each source table.

A record's canonical JSON is a few hundred bytes, most of them the same field
names and the same few values as every other record of its table. Alone it
compresses to 0.7–0.9 of its size; with a dictionary trained on its table, to
0.15–0.3 (docs/benchmarks.md), at a microsecond or two a record either way.

The first pull that brings a table at least `TRAIN_FROM` new payloads in one
chunk trains the table's dictionary on them. A dictionary is kept for as long
as the warehouse: every payload packed with it needs it to be read. Payloads
landed before there is one (a table's first pulls of a handful of records)
are packed without. Each packed payload is a standard zstd frame that names
its dictionary, so `zstd -D <dictionary> -d` reads it outside wageguard too."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import zstandard
from sqlalchemy import Connection, text

# Fewer samples train a dictionary that fits them and little else; the
# table's later pulls would be packed with it for good.
TRAIN_FROM = 500
DICTIONARY_BYTES = 16_384
# zstd's default: levels above it shrink these small frames by under 2% at
# twice the time.
LEVEL = 3

class Packer:
    """Packs one source table's payloads, with its dictionary once there is
    one. A payload whose table is unknown (its pull no longer held) is packed
    without."""

    def __init__(self, conn: Connection, source_table: str | None, batch_id: str) -> None:
        self._conn, self._table, self._batch_id = conn, source_table, batch_id
        self._compressor: zstandard.ZstdCompressor | None = None
        # A compressor keeps a context that two threads may not share: one a packer.
        self._plain = zstandard.ZstdCompressor(level=LEVEL, write_checksum=False)

    def pack(self, payloads: Sequence[bytes]) -> list[bytes]:
        """`payloads` (canonical JSON) packed. Runs queries: call it between
        writes, not during one (PostgreSQL takes no query mid-COPY)."""
        if self._compressor is None and self._table is not None:
            self._compressor = self._with_dictionary(payloads)
        compressor = self._compressor or self._plain
        return [compressor.compress(payload) for payload in payloads]

    def _with_dictionary(self, samples: Sequence[bytes]) -> zstandard.ZstdCompressor | None:
        held = self._held()
        if held is None and len(samples) >= TRAIN_FROM:
            trained = zstandard.train_dictionary(DICTIONARY_BYTES, list(samples), level=LEVEL)
            # Two pulls of one table may train at once: the first stored stays.
            self._conn.execute(text(
                "INSERT INTO payload_dictionary (source_table, dictionary_id, trained_on, "
                "dictionary) VALUES (:t, :i, :b, :d) ON CONFLICT DO NOTHING"),
                {"t": self._table, "i": trained.dict_id(), "b": self._batch_id,
                 "d": trained.as_bytes()})
            held = self._held()
        if held is None:
            return None
        return zstandard.ZstdCompressor(dict_data=held, level=LEVEL, write_checksum=False)

    def _held(self) -> zstandard.ZstdCompressionDict | None:
        row = self._conn.execute(
            text("SELECT dictionary_id, dictionary FROM payload_dictionary "
                 "WHERE source_table = :t"), {"t": self._table}).first()
        return None if row is None else _dictionary(row.dictionary_id, bytes(row.dictionary))


# Dictionaries by id. zstd derives a trained dictionary's id from its content,
# so one id is one dictionary whichever warehouse holds it.
_DICTIONARIES: dict[int, zstandard.ZstdCompressionDict] = {}
# Decompressors by dictionary id (0: none), each thread its own: python-zstandard
# keeps a context per decompressor, not to be used by two threads at once.
_THREAD = threading.local()


def _dictionary(dictionary_id: int, content: bytes) -> zstandard.ZstdCompressionDict:
    if dictionary_id not in _DICTIONARIES:
        dictionary = zstandard.ZstdCompressionDict(content)
        dictionary.precompute_compress(level=LEVEL)
        _DICTIONARIES[dictionary_id] = dictionary
    return _DICTIONARIES[dictionary_id]


def _decompressor(conn: Connection, dictionary_id: int) -> zstandard.ZstdDecompressor:
    held: dict[int, zstandard.ZstdDecompressor] = _THREAD.__dict__.setdefault("held", {})
    if dictionary_id not in held:
        if dictionary_id == 0:
            held[0] = zstandard.ZstdDecompressor()
        else:
            content = conn.execute(
                text("SELECT dictionary FROM payload_dictionary WHERE dictionary_id = :i"),
                {"i": dictionary_id}).scalar()
            if content is None:
                raise LookupError(f"payload packed with dictionary {dictionary_id}, which "
                                  "the warehouse does not hold")
            held[dictionary_id] = zstandard.ZstdDecompressor(
                dict_data=_dictionary(dictionary_id, bytes(content)))
    return held[dictionary_id]


def unpack(conn: Connection, packed: bytes) -> str:
    """A packed payload's canonical JSON."""
    frame = bytes(packed)
    dictionary_id = zstandard.get_frame_parameters(frame).dict_id
    return _decompressor(conn, dictionary_id).decompress(frame).decode("utf-8")
