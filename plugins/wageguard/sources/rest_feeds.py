"""The list endpoints of the housing and credit APIs, one per source table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wageguard.sources.config import SourceConfig
from wageguard.sources.http_session import SourceSession
from wageguard.sources.paged_api import Pull, pull_all, session_for
from wageguard.tables import REST_TABLES


@dataclass(frozen=True)
class RestFeed:
    table: str
    system: str  # housing | credit: picks the connection and its auth
    path: str
    page_size: int
    incremental: bool = True


FEEDS = {t.name: RestFeed(t.name, t.system, t.api_path, t.page_size, t.incremental)
         for t in REST_TABLES}

# How each system expects its credential.
_AUTH = {"housing": ("Authorization", "Bearer "), "credit": ("X-Api-Key", "")}


def session(system: str, config: SourceConfig) -> SourceSession:
    header, prefix = _AUTH[system]
    return session_for(config, header, prefix)


def closed_months(run_date: dt.date, count: int, closes_on_day: int) -> list[str]:
    """The `count` most recent months that are closed on run_date, newest first.
    A month is closed from day `closes_on_day` of the following month."""
    year, month = run_date.year, run_date.month - 1  # the month before run_date's
    if run_date.day < closes_on_day:
        month -= 1
    months = []
    for _ in range(count):
        while month < 1:
            month += 12
            year -= 1
        months.append(f"{year:04d}-{month:02d}")
        month -= 1
    return months


def pull_feed(
    feed: RestFeed,
    config: SourceConfig,
    *,
    watermark: str | None,
    months: list[str] | None = None,
) -> Pull:
    http = session(feed.system, config)
    base = {"page_size": feed.page_size}
    if feed.incremental:
        params = dict(base, **({"updated_since": watermark} if watermark else {}))
        return pull_all(http, config.location, feed.path, params, feed.table)
    # Not incremental: one pull per month asked for, into one.
    total = Pull()
    for month in months or []:
        pull_all(http, config.location, feed.path, dict(base, month=month),
                 f"{feed.table} {month}", total)
    return total
