"""The validate stage: normalise what people typed, keep the latest version of
each record, check the rows against the table's Great Expectations suite, and
split good rows from quarantine. Imports nothing heavy: GX loads only to
render a pull's Data Docs page."""

from __future__ import annotations

from wageguard.landing.store import encoded
from wageguard.tables import BY_NAME
from wageguard.validate.batch import CHUNK, BatchValidation
from wageguard.validate.split import BatchRejected, Outcome, Quarantined, judge

__all__ = ["BatchRejected", "BatchValidation", "Outcome", "Quarantined", "validate_table"]


def validate_table(
    table: str,
    raw_records,
    *,
    max_bad_share: float = 0.5,
    min_rows_for_share: int = 20,
    allow_empty: bool = True,
) -> Outcome:
    """Validate one source table's pull held in memory (records exactly as the
    source served them); the loader streams a landed pull through
    BatchValidation instead. Raises BatchRejected, carrying the Outcome, when
    more than `max_bad_share` of the records are quarantined (in a pull of at
    least `min_rows_for_share` records: a handful of changes in a quiet night
    says nothing about the source as a whole), or when nothing was served and
    `allow_empty` is false."""
    records = list(raw_records)
    validation = BatchValidation(BY_NAME[table])
    for start in range(0, len(records), CHUNK):
        part = records[start:start + CHUNK]
        validation.add(part, encoded(part)[1])
    good, positions, quarantined, changes, warnings = [], [], [], [], []
    for verdict in validation.verdicts():
        good += verdict.rows
        positions += verdict.positions
        quarantined += [Quarantined(table, r.key, r.reasons, records[r.position], r.position)
                        for r in verdict.rejections]
        changes += verdict.changes
        warnings += verdict.warnings
    summary = validation.summary
    outcome = Outcome(table=table, pulled=len(records), good=good, quarantined=quarantined,
                      superseded=summary["superseded"], changes=changes, summary=summary,
                      good_positions=positions, warnings=warnings)
    accounted = len(outcome.good) + len(outcome.quarantined) + outcome.superseded
    if outcome.pulled != accounted:
        raise RuntimeError(
            f"{table}: {outcome.pulled} records pulled but {accounted} accounted for "
            f"({len(outcome.good)} good, {len(outcome.quarantined)} quarantined, "
            f"{outcome.superseded} superseded): a bug in the validate stage"
        )
    judge(summary, max_bad_share, min_rows_for_share, allow_empty, outcome)
    return outcome
