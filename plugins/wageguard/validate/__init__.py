"""The validate stage: normalise what people typed, keep the latest version of
each record, run the table's Great Expectations suite, and split good rows from
quarantine. Imports nothing heavy: pandas and GX load on the first validation."""

from __future__ import annotations

from wageguard.tables import BY_NAME
from wageguard.validate.dedupe import dedupe
from wageguard.validate.gx_suites import run_suite
from wageguard.validate.normalise import normalise
from wageguard.validate.split import BatchRejected, Outcome, Quarantined, check_batch, split

__all__ = ["BatchRejected", "Outcome", "Quarantined", "validate_table"]


def validate_table(
    table: str,
    raw_records: list[dict],
    *,
    max_bad_share: float = 0.5,
    min_rows_for_share: int = 20,
    allow_empty: bool = True,
) -> Outcome:
    """Validate one source table's pull (records exactly as the source served
    them). Raises BatchRejected, carrying the Outcome, when more than
    `max_bad_share` of the records are quarantined (in a pull of at least
    `min_rows_for_share` records: a handful of changes in a quiet night says
    nothing about the source as a whole), or when nothing was served
    and `allow_empty` is false."""
    spec = BY_NAME[table]
    normalised = normalise(spec, raw_records)
    deduped = dedupe(spec, normalised.rows)
    # Tombstones void the record whatever else they hold: the suite is for live rows.
    live = [i for i in deduped.kept if normalised.rows[i].get("deleted") is not True]
    run = run_suite(table, spec.columns, [normalised.rows[i] for i in live], live)
    outcome = split(spec, raw_records, normalised, deduped, live, run)
    accounted = len(outcome.good) + len(outcome.quarantined) + outcome.superseded
    if outcome.pulled != accounted:
        raise RuntimeError(
            f"{table}: {outcome.pulled} records pulled but {accounted} accounted for "
            f"({len(outcome.good)} good, {len(outcome.quarantined)} quarantined, "
            f"{outcome.superseded} superseded): a bug in the validate stage"
        )
    check_batch(outcome, max_bad_share, min_rows_for_share, allow_empty)
    return outcome
