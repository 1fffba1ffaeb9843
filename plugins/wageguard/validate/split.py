"""Splitting a chunk of a pull into the good rows that go on to loading, the
quarantine (each record with every reason), and the versions superseded by a
later one; and refusing a pull that is mostly bad."""

from __future__ import annotations

from dataclasses import dataclass, field

from wageguard.tables import BY_NAME, SourceTable
from wageguard.validate.dedupe import key_of
from wageguard.validate.normalise import Problem
from wageguard.validate.suite_checks import Breach

TOP_REASONS = 3


@dataclass
class Rejection:
    position: int  # of the raw record in the pull as served
    key: str | None
    payload_hash: bytes
    reasons: list[str]


@dataclass
class Warned:
    """A good row that breaks its contract only where the rules do not read."""

    position: int
    key: str | None
    payload_hash: bytes
    breaches: list[Breach]


@dataclass
class ChunkVerdict:
    """What became of one chunk of a pull, in pull order."""

    positions: list[int]  # of the good rows
    payload_hashes: list[bytes]  # of the good rows
    columns: dict[str, list]  # the good rows, normalised, column by column
    tombstones: list[bool]  # per good row
    rejections: list[Rejection] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)  # {key, column, before, after, kind}
    warnings: list[Warned] = field(default_factory=list)  # good rows with breaches

    @property
    def rows(self) -> list[dict]:
        names = list(self.columns)
        return [dict(zip(names, cells, strict=True))
                for cells in zip(*self.columns.values(), strict=True)]


@dataclass
class Quarantined:
    table: str
    key: str | None
    reasons: list[str]
    raw: object  # exactly what the source served (kept as is even when not an object)
    position: int  # of the raw record in the batch as served


@dataclass
class Outcome:
    """A whole pull's split, for a pull small enough to hold (validate_table)."""

    table: str
    pulled: int
    good: list[dict]  # normalised flat rows, one per key
    quarantined: list[Quarantined]
    superseded: int
    changes: list[dict]
    summary: dict  # counts and summary-sized validation results, JSON-serialisable
    good_positions: list[int]  # of each good row's raw record in the batch as served
    warnings: list[Warned] = field(default_factory=list)  # good rows that break descriptive checks

    @property
    def quarantined_share(self) -> float:
        return len(self.quarantined) / self.pulled if self.pulled else 0.0


class BatchRejected(Exception):
    """The pull looks broken as a whole; nothing of it is loaded. `summary`
    says why; `outcome` holds the split when the pull was validated whole."""

    def __init__(self, message: str, summary: dict, outcome: Outcome | None = None):
        super().__init__(message)
        self.summary = summary
        self.outcome = outcome


def split_chunk(table: SourceTable, start: int, columns: dict[str, list], hashes: list[bytes],
                kept: list[bool], rejected: dict[int, list[str]],
                problems: dict[int, list[Problem]], failures: dict[int, list[str]],
                breaches: dict[int, list[Breach]], changes: dict[int, list]) -> ChunkVerdict:
    """One chunk of records at positions start.. in pull order, by index in the
    chunk: `kept` and `rejected` are dedupe's verdicts, `problems`
    normalisation's, `failures` (critical) and `breaches` (the rest) the
    suite's on the kept live rows. A kept tombstone needs nothing beyond the key
    and updated_at that dedupe already required.

    A problem reading a column the rules need is as fatal as a critical
    failure; one in a descriptive column is a breach like a warning's. A
    breached value is not loaded: the check found it unusable, and it stays in
    the landed payload."""
    deleted = columns.get("deleted") or [None] * len(kept)
    critical = table.critical
    fatal: set[int] = set()
    warned: dict[int, list[Breach]] = {}
    for i, found in problems.items():
        for column, reason in found:
            if column is None or column in critical:
                fatal.add(i)
            else:
                warned.setdefault(i, []).append(Breach(reason, column, None, "warning"))

    def reasons(i: int) -> list[str]:  # a quarantined record's every problem
        return [reason for _, reason in problems.get(i, [])]

    bad = {i: reasons(i) + found for i, found in rejected.items()}
    for i in fatal | failures.keys():
        if i not in bad and kept[i] and deleted[i] is not True:
            bad[i] = reasons(i) + failures.get(i, [])
    for i, breached in breaches.items():
        warned.setdefault(i, []).extend(breached)
    warned = {i: found for i, found in warned.items()
              if i not in bad and kept[i] and deleted[i] is not True}
    good = [i for i, keep in enumerate(kept) if keep and i not in bad]
    columns = _without_breached_values(columns, warned)

    def key(i: int) -> str | None:
        return key_of(table, {c: columns[c][i] for c in table.key})

    return ChunkVerdict(
        positions=[start + i for i in good],
        payload_hashes=[hashes[i] for i in good],
        columns=(columns if len(good) == len(kept)
                 else {c: [values[i] for i in good] for c, values in columns.items()}),
        tombstones=[deleted[i] is True for i in good],
        rejections=[Rejection(start + i, key(i), hashes[i], bad[i]) for i in sorted(bad)],
        changes=[{"key": key(i), "column": column, "before": before, "after": after,
                  "kind": kind}
                 for i in good if i in changes for column, before, after, kind in changes[i]],
        warnings=[Warned(start + i, key(i), hashes[i], warned[i]) for i in sorted(warned)],
    )


def _without_breached_values(columns: dict[str, list],
                             warned: dict[int, list[Breach]]) -> dict[str, list]:
    blanked = {(b.column, i) for i, found in warned.items() for b in found
               if b.column is not None}
    if not blanked:
        return columns
    out = dict(columns)
    for column in {c for c, _ in blanked}:
        out[column] = list(columns[column])
    for column, i in blanked:
        out[column][i] = None
    return out


def judge(summary: dict, max_bad_share: float, min_rows_for_share: int, allow_empty: bool,
          outcome: Outcome | None = None) -> None:
    """Raises BatchRejected when the pull as a whole looks broken."""
    table, pulled, quarantined = summary["table"], summary["pulled"], summary["quarantined"]
    if pulled == 0 and not allow_empty:
        raise BatchRejected(
            f"{table}: the source served no records, and this table must not be "
            "empty. Nothing was loaded. Check the source system's export or the pull "
            "(an outage or a failed export?) and re-run the night.",
            summary, outcome,
        )
    _refuse_missing_fields(summary, min_rows_for_share, outcome)
    share = summary["quarantined_share"]
    if pulled >= max(min_rows_for_share, 1) and share > max_bad_share:
        top = ", ".join(
            f"{reason} ({count})"
            for reason, count in list(summary["reasons"].items())[:TOP_REASONS]
        )
        raise BatchRejected(
            f"{table}: {quarantined} of {pulled} records "
            f"quarantined ({share:.0%}, more than the "
            f"{max_bad_share:.0%} allowed); top reasons: {top}. Nothing was loaded. "
            "A share this high usually means the source changed its format or served a "
            "broken export: look at the quarantined raw records, then either get the "
            "source fixed, or teach wageguard the new form (validate/normalise.py, or "
            f"expectations/{table}.json) and re-run the night.",
            summary, outcome,
        )


def _refuse_missing_fields(summary: dict, min_rows: int, outcome: Outcome | None) -> None:
    """A field the rules read that no record carries: renamed or dropped by the
    source, for sure when it serves fields nobody knows or the pull is large
    enough that every record omitting a null is not credible."""
    table, pulled, fields = summary["table"], summary["pulled"], summary["fields"]
    if not fields["missing"] or (pulled < min_rows and not fields["unknown"]):
        return
    spec = BY_NAME[table]
    labels = {c.path[0]: c.label for c in spec.fields}
    missing = ", ".join(f"{field} ({labels[field]})" for field in fields["missing"])
    unknown = (f"; the records carry fields wageguard does not know: "
               f"{', '.join(fields['unknown'])} (renamed?)" if fields["unknown"] else "")
    raise BatchRejected(
        f"{table}: none of the {pulled} records served has {missing}, which the rules "
        f"read{unknown}. Nothing was loaded. Ask the source system whether the field was "
        "renamed or dropped; if renamed, give its new name to the column's source in "
        "plugins/wageguard/tables.py, and re-run the night.",
        summary, outcome,
    )
