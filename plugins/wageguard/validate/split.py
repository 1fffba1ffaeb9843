"""Split a table's records into the good rows that go on to loading, the
quarantine (each row with its raw record and every reason), and the versions
superseded by a later one; and refuse a batch that is mostly bad."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from wageguard.tables import SourceTable
from wageguard.validate.dedupe import Deduped, key_of
from wageguard.validate.gx_suites import SuiteRun
from wageguard.validate.normalise import Normalised

TOP_REASONS = 3


@dataclass
class Quarantined:
    table: str
    key: str | None
    reasons: list[str]
    raw: dict  # exactly what the source served (kept as is even when not an object)
    position: int  # of the raw record in the batch as served


@dataclass
class Outcome:
    table: str
    pulled: int
    good: list[dict]  # normalised flat rows, one per key
    quarantined: list[Quarantined]
    superseded: int
    changes: list[dict]  # {key, column, before, after, kind}, for the good rows
    summary: dict  # counts and summary-sized validation results, JSON-serialisable
    good_positions: list[int]  # of each good row's raw record in the batch as served
    docs_html: str = ""  # the GX Data Docs page of the validation

    @property
    def quarantined_share(self) -> float:
        return len(self.quarantined) / self.pulled if self.pulled else 0.0


class BatchRejected(Exception):
    """The batch looks broken as a whole; `outcome` still holds the split, so
    the quarantine can be stored for the people who have to look at it."""

    def __init__(self, message: str, outcome: Outcome):
        super().__init__(message)
        self.outcome = outcome


def split(
    table: SourceTable,
    raw_records: list,
    normalised: Normalised,
    deduped: Deduped,
    live: list[int],
    run: SuiteRun,
) -> Outcome:
    """`live` are the kept rows that were validated; the other kept rows are
    tombstones, which need nothing beyond the key and updated_at that dedupe
    already required."""
    rows = normalised.rows
    reasons: dict[int, list[str]] = {
        i: normalised.problems[i] + rejected for i, rejected in deduped.rejected.items()
    }
    for i in live:
        failed = normalised.problems[i] + run.failures.get(i, [])
        if failed:
            reasons[i] = failed
    good = [i for i in deduped.kept if i not in reasons]
    changes = [
        {"key": key_of(table, rows[i]), "column": column, "before": before, "after": after,
         "kind": kind}
        for i in good
        for column, before, after, kind in normalised.changes[i]
    ]
    outcome = Outcome(
        table=table.name,
        pulled=len(raw_records),
        good=[rows[i] for i in good],
        quarantined=[
            Quarantined(table.name, key_of(table, rows[i]), reasons[i], raw_records[i], i)
            for i in sorted(reasons)
        ],
        superseded=deduped.superseded,
        changes=changes,
        summary={},
        good_positions=good,
        docs_html=run.docs_html,
    )
    outcome.summary = {
        "table": table.name,
        "pulled": outcome.pulled,
        "good": len(good),
        "quarantined": len(outcome.quarantined),
        "superseded": outcome.superseded,
        "quarantined_share": outcome.quarantined_share,
        "tombstones": len(deduped.kept) - len(live),
        "tied_versions": deduped.tied,
        "changes": len(changes),
        "reasons": dict(Counter(r for rs in reasons.values() for r in rs).most_common()),
        "validation": {"success": run.success, "rows": len(live), "expectations": run.results},
    }
    return outcome


def check_batch(outcome: Outcome, max_bad_share: float, min_rows_for_share: int,
                allow_empty: bool) -> None:
    if outcome.pulled == 0 and not allow_empty:
        raise BatchRejected(
            f"{outcome.table}: the source served no records, and this table must not be "
            "empty. Nothing was loaded. Check the source system's export or the pull "
            "(an outage or a failed export?) and re-run the night.",
            outcome,
        )
    if outcome.pulled >= max(min_rows_for_share, 1) and outcome.quarantined_share > max_bad_share:
        top = ", ".join(
            f"{reason} ({count})"
            for reason, count in list(outcome.summary["reasons"].items())[:TOP_REASONS]
        )
        raise BatchRejected(
            f"{outcome.table}: {len(outcome.quarantined)} of {outcome.pulled} records "
            f"quarantined ({outcome.quarantined_share:.0%}, more than the "
            f"{max_bad_share:.0%} allowed); top reasons: {top}. Nothing was loaded. "
            "A share this high usually means the source changed its format or served a "
            "broken export: look at the quarantined raw records, then either get the "
            "source fixed, or teach wageguard the new form (validate/normalise.py, or "
            f"expectations/{outcome.table}.json) and re-run the night.",
            outcome,
        )
