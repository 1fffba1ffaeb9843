"""What a generated world promises, for tests to hold the pipeline to: the rule cases
planted in it, how they must play out over a month of nights, how each planted party
must resolve, and the dirty records it contains."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from wageguard.tables import BY_NAME, DEVREFORM_HEADERS


class PlantedCase(NamedTuple):
    project_id: str
    rule: str  # WA1 … RN1, as in rules.md
    expected: bool  # whether the rule raises a flag for the project on the run date
    severity: str | None  # base severity (before escalation) of an expected flag
    note: str


class LifecycleCase(NamedTuple):
    project_id: str
    rule: str
    # For every night of World.lifecycle_nights: the raised_on the flag carries that
    # night, or None when it must not be open.
    expected: dict[date, date | None]
    note: str


class ResolutionCase(NamedTuple):
    project_id: str
    role: str  # builder | contractor
    expected_status: str  # resolved | ambiguous | absent
    expected_credit_code: str | None
    note: str


class BlankCase(NamedTuple):
    """A planted record with a descriptive field left blank, as real records come: it
    must be loaded (with a warning), never quarantined. The planted list entries with
    blanks all apply on D, so each must go out in the blacklist."""

    table: str
    key: str | tuple[str, ...]  # as DirtyRecord's
    column: str  # the blank one
    note: str


class DirtyRecord(NamedTuple):
    table: str  # a name from wageguard.tables
    key: str | tuple[str, ...]  # the record's key as served (for CSV rows, as typed)
    why: str


def record_key(table: str, record: dict) -> str | tuple[str, ...]:
    """The key of `record` as served (a tuple for composite keys), as DirtyRecord names it."""
    source = BY_NAME[table]
    if source.system == "devreform":
        header_of = {column: header for header, column in DEVREFORM_HEADERS[table].items()}
        # A row cut short loses its last headers, never the key that leads it.
        values = tuple(record[header_of[column]] for column in source.key)
    else:
        values = tuple(record[column] for column in source.key)
    return values[0] if len(values) == 1 else values
