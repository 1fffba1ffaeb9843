"""Keep one version of each record, as the source contracts tell clients to:
the latest `updated_at` per key. Dev-reform snapshots carry no `updated_at`,
so there a key seen twice with different content cannot be settled at all.

A pull is indexed chunk by chunk in compact arrays (per record its position, a
128-bit hash of its key, the head of its payload hash and, where the latest
wins, its instant: 28 or 36 bytes), so a province's pull is deduplicated
without holding its records. Versions of one key at one
instant with different payloads are rare; only those are compared on their
normalised content, when the pull is settled."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat

import numpy as np

from wageguard.tables import SourceTable
from wageguard.validate.normalise import parse_timestamp

UNORDERABLE = "updated_at missing or unparseable"
SNAPSHOT_CONFLICT = "duplicate key in snapshot with differing content"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class Deduped:
    kept: np.ndarray  # one bool per record position
    superseded: int
    rejected: dict[int, list[str]]  # position -> reasons, in the order they are reported
    # Keys whose latest versions share an updated_at yet differ: settled by a
    # deterministic but arbitrary order, so worth telling the data engineers.
    tied: int


def key_of(table: SourceTable, row: dict) -> str | None:
    parts = [row.get(column) for column in table.key]
    return None if any(part is None for part in parts) else "|".join(map(str, parts))


def _missing_key(table: SourceTable) -> str:
    return f"missing key ({', '.join(table.key)})"


def _instant(text: str | None) -> int | None:
    moment = parse_timestamp(text)
    return None if moment is None else (moment - _EPOCH) // _MICROSECOND


_SALT = "\x00"
# Shares of the keys a pull is settled in, by the low bits of a key's hash.
_BUCKETS = 16
_Part = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]


def _known(values: list, n: int) -> np.ndarray:
    """Which of the values are not null."""
    return np.fromiter(map(operator.is_not, values, repeat(None)), dtype=bool, count=n)


class Versions:
    """The index of one pull: `add` each chunk's normalised columns (records in
    pull order), then `settle`."""

    def __init__(self, table: SourceTable):
        self.table = table
        self.latest_wins = "updated_at" in table.columns
        self.count = 0
        # Per share of the keys, each chunk's orderable records: (positions,
        # keys, contents, instants or None).
        self._shares: list[list[_Part]] = [[] for _ in range(_BUCKETS)]
        self._unorderable: dict[int, list[str]] = {}

    def add(self, columns: dict[str, list], payload_hashes: list[bytes]) -> None:
        n = len(payload_hashes)
        parts = [columns[c] for c in self.table.key]
        keys = parts[0] if len(parts) == 1 else [
            None if None in cells else "|".join(cells) for cells in zip(*parts, strict=True)]
        instants = ([_instant(t) for t in columns["updated_at"]] if self.latest_wins
                    else [0] * n)
        known_key = _known(keys, n)
        orderable = known_key & _known(instants, n)
        for i in np.flatnonzero(~orderable).tolist():
            reasons = [] if known_key[i] else [_missing_key(self.table)]
            if instants[i] is None:
                reasons.append(UNORDERABLE)
            self._unorderable[self.count + i] = reasons
        # Each key as two 64-bit hashes, of it and of it salted: two keys share
        # both with odds of 2**-128. Python's own string hash, which each string
        # keeps once taken: it differs from process to process, and the index
        # lives and dies in this one. An unorderable record's is never read.
        spelt = keys if known_key.all() else [key or "" for key in keys]
        hashed = np.stack([np.fromiter(map(hash, spelt), np.int64, n),
                           np.fromiter(map(hash, map(_SALT.__add__, spelt)), np.int64, n)],
                          axis=1)
        heads = b"".join(map(operator.itemgetter(slice(0, 8)), payload_hashes))
        contents = np.frombuffer(heads, dtype=">u8").astype(np.uint64)
        times = (np.array([t or 0 for t in instants], dtype=np.int64) if self.latest_wins
                 else None)
        positions = np.arange(self.count, self.count + n, dtype=np.int32)
        if not orderable.all():
            positions, hashed, contents = (positions[orderable], hashed[orderable],
                                           contents[orderable])
            times = None if times is None else times[orderable]
        # All versions of a key fall in one share: a pull is settled a share at
        # a time, so settling adds a share's arrays to the index, not a pull's.
        share = hashed[:, 0] & (_BUCKETS - 1)
        for index, held in enumerate(self._shares):
            rows = share == index
            held.append((positions[rows], hashed[rows], contents[rows],
                         None if times is None else times[rows]))
        self.count += n

    def settle(self, canonical_rows: Callable[[list[int]], dict[int, str]]) -> Deduped:
        """Decide, once, which version of each key is kept. `canonical_rows` gives the
        normalised content of the few versions that must be compared, as
        canonical text, by position."""
        n = self.count
        kept = np.zeros(n, dtype=bool)
        if n == 0:
            return Deduped(kept, 0, {}, 0)
        superseded, doubtful = 0, []
        for index, parts in enumerate(self._shares):
            self._shares[index] = []
            if not parts:
                continue
            positions, keys, contents, instants = zip(*parts, strict=True)
            del parts
            found, runs = self._settle_share(
                np.concatenate(positions), np.concatenate(keys), np.concatenate(contents),
                None if instants[0] is None else np.concatenate(instants), kept)
            del positions, keys, contents, instants
            superseded += found
            doubtful.extend(runs)
        rejected = dict(self._unorderable)
        tied, conflicts = 0, []
        if doubtful:
            canonical = canonical_rows([p for run in doubtful for p in run])
            for run in doubtful:
                texts = [canonical[p] for p in run]
                if len(set(texts)) == 1:
                    continue
                kept[run[0]] = False
                if self.latest_wins:
                    # The greatest content wins, the earliest of equals.
                    kept[run[texts.index(max(texts))]] = True
                    tied += 1
                else:
                    superseded -= len(run) - 1
                    conflicts.append(run)
        for run in sorted(conflicts):
            rejected.update((p, [SNAPSHOT_CONFLICT]) for p in run)
        return Deduped(kept, superseded, rejected, tied)

    @staticmethod
    def _settle_share(positions: np.ndarray, keys: np.ndarray, contents: np.ndarray,
                      instants: np.ndarray | None, kept: np.ndarray
                      ) -> tuple[int, list[list[int]]]:
        """Keeps the first version of each key of a share in `kept`; returns how
        many were superseded and the runs of versions (positions, the kept one
        first) whose content must be compared. `instants`: None for a snapshot,
        where every version of a key is a candidate."""
        # Grouped by key; in a group the latest first, then in pull order.
        order = np.lexsort((positions, keys[:, 1], keys[:, 0]) if instants is None
                           else (positions, -instants, keys[:, 1], keys[:, 0]))
        starts = np.ones(len(order), dtype=bool)
        for half in (0, 1):
            part = keys[order, half]
            starts[1:] &= part[1:] == part[:-1]
        starts[1:] = ~starts[1:]
        positions, contents = positions[order], contents[order]
        latest = None if instants is None else instants[order]
        group = np.cumsum(starts, dtype=np.int32) - 1
        firsts = np.flatnonzero(starts)
        kept[positions[firsts]] = True
        # A group's candidates: every version (snapshot) or those at its latest
        # instant (latest wins). Payloads that differ may still normalise alike,
        # so only those groups are compared on content.
        candidate = (np.ones(len(positions), dtype=bool) if latest is None
                     else latest == latest[firsts][group])
        differs = candidate & (contents != contents[firsts][group])
        doubtful = candidate & np.isin(group, np.unique(group[differs]))
        if not doubtful.any():
            return len(positions) - len(firsts), []
        bounds = np.nonzero(np.diff(group[doubtful]))[0] + 1
        return (len(positions) - len(firsts),
                [part.tolist() for part in np.split(positions[doubtful], bounds)])
