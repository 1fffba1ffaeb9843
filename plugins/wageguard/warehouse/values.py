"""Values as they come back from either warehouse."""

from __future__ import annotations

import datetime as dt


def as_date(value) -> dt.date | None:
    """SQLite hands DATE columns back as ISO text, PostgreSQL as dates."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
