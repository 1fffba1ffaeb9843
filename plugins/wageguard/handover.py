"""What the night's stages hand each other: through XCom in the DAG, as plain
values in pipeline.run_night. Typed dicts rather than classes, so they cross
XCom as JSON with no deserialisation allow-list to configure, while the type
checker holds every key a stage reads to the key another stage wrote."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class Loaded(TypedDict):
    """One batch validated and loaded: pulled = loaded + quarantined +
    superseded + unchanged."""

    batch_id: str
    source_table: str
    status: NotRequired[str]
    pulled: int
    loaded: int
    quarantined: int
    superseded: int
    warned: int
    unchanged: int


class Ingested(TypedDict):
    """One feed's pull, landed as batches of night D, and what each loaded."""

    feed: str
    batch_ids: list[str]
    pulled: int
    loaded: list[Loaded]
    # A monthly REST table: the closed months asked for (newest first).
    months: NotRequired[list[str] | None]
    # The dev-reform feed: the bundle used (None without a complete one), the
    # bundle days passed over with why, and why no bundle was found.
    bundle_day: NotRequired[str | None]
    skipped: NotRequired[list[tuple[str, str]]]
    error: NotRequired[str]


class NightViewJson(TypedDict):
    """Night D's view as it crosses XCom (warehouse/night.py NightView)."""

    run_date: str
    knowledge_cutoff: str
    bundle_day: str | None
    rerun: bool


class Materialised(TypedDict):
    """What night D's snapshot holds: rows per night_* table, parties per
    resolution status, project links and required deposits."""

    snapshot: dict[str, int]
    parties: dict[str, int]
    links: int
    deposits: int


class BuiltNight(NightViewJson, Materialised):
    """The built night, with the run's hold on the warehouse, carried on to
    evaluate and export (warehouse/lock.py)."""

    lock: str
