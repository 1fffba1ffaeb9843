"""Values as they come back from either warehouse."""

from __future__ import annotations

import datetime as dt
from typing import overload


@overload
def as_date(value: None) -> None: ...
@overload
def as_date(value: dt.date | str) -> dt.date: ...
def as_date(value: dt.date | str | None) -> dt.date | None:
    """SQLite hands DATE columns back as ISO text, PostgreSQL as dates."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
