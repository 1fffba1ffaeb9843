"""Keep one version of each record, as the source contracts tell clients to:
the latest `updated_at` per key. Dev-reform snapshots carry no `updated_at`,
so there a key seen twice with different content cannot be settled at all."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from wageguard.tables import SourceTable
from wageguard.validate.normalise import parse_timestamp

UNORDERABLE = "updated_at missing or unparseable"
SNAPSHOT_CONFLICT = "duplicate key in snapshot with differing content"


@dataclass
class Deduped:
    kept: list[int] = field(default_factory=list)  # row positions, in input order
    superseded: int = 0
    rejected: dict[int, list[str]] = field(default_factory=dict)  # position -> reasons
    # Keys whose latest versions share an updated_at yet differ: settled by a
    # deterministic but arbitrary order, so worth telling the data engineers.
    tied: int = 0


def key_of(table: SourceTable, row: dict) -> str | None:
    parts = [row.get(column) for column in table.key]
    return None if any(part is None for part in parts) else "|".join(parts)


def _canonical(row: dict) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


def _missing_key(table: SourceTable) -> str:
    return f"missing key ({', '.join(table.key)})"


def dedupe(table: SourceTable, rows: list[dict]) -> Deduped:
    if "updated_at" in table.columns:
        return _latest_wins(table, rows)
    return _snapshot(table, rows)


def _latest_wins(table: SourceTable, rows: list[dict]) -> Deduped:
    out = Deduped()
    best: dict[str, tuple[datetime, int, bool]] = {}  # key -> (moment, position, tied)
    orderable = 0
    for i, row in enumerate(rows):
        key = key_of(table, row)
        moment = parse_timestamp(row["updated_at"])
        reasons = []
        if key is None:
            reasons.append(_missing_key(table))
        if moment is None:
            reasons.append(UNORDERABLE)
        if reasons:
            out.rejected[i] = reasons
            continue
        orderable += 1
        held = best.get(key)
        if held is None or moment > held[0]:
            best[key] = (moment, i, False)
        elif moment == held[0]:
            mine, theirs = _canonical(row), _canonical(rows[held[1]])
            if mine != theirs:
                best[key] = (moment, i if mine > theirs else held[1], True)
    out.kept = sorted(position for _, position, _ in best.values())
    out.superseded = orderable - len(best)
    out.tied = sum(tied for _, _, tied in best.values())
    return out


def _snapshot(table: SourceTable, rows: list[dict]) -> Deduped:
    out = Deduped()
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        key = key_of(table, row)
        if key is None:
            out.rejected[i] = [_missing_key(table)]
        else:
            groups.setdefault(key, []).append(i)
    for members in groups.values():
        if len({_canonical(rows[i]) for i in members}) == 1:
            out.kept.append(members[0])
            out.superseded += len(members) - 1
        else:
            out.rejected.update((i, [SNAPSHOT_CONFLICT]) for i in members)
    out.kept.sort()
    return out
