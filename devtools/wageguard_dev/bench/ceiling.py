"""The ceiling for the load stage: the rate at which the warehouse takes the
same rows the night loaded, written the fastest plain way into an empty keyed
copy of each version table (COPY on PostgreSQL, executemany on SQLite), with
nothing else done to them."""

from __future__ import annotations

import re
import time

from sqlalchemy import text
from wageguard.db.bulk import is_postgres, write_rows
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.typed import VERSION_TABLE


def raw_write_rate(warehouse_url: str) -> tuple[int, float]:
    """(rows, seconds) for writing every version row of the warehouse again."""
    engine = make_engine(warehouse_url)
    rows_written, seconds = 0, 0.0
    try:
        with engine.begin() as conn:
            for table in sorted(set(VERSION_TABLE.values())):
                result = conn.execute(text(f"SELECT * FROM {table}"))
                columns, rows = list(result.keys()), [tuple(r) for r in result]
                copy = _keyed_copy(conn, table)
                started = time.perf_counter()
                write_rows(conn, copy, columns, rows, may_exist=False)
                seconds += time.perf_counter() - started
                rows_written += len(rows)
            conn.rollback()
    finally:
        engine.dispose()
    return rows_written, seconds


def _keyed_copy(conn, table: str) -> str:
    copy = f"ceiling_{table}"
    if is_postgres(conn):
        conn.execute(text(f"CREATE TEMP TABLE {copy} (LIKE {table} INCLUDING ALL)"))
    else:
        create = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"),
                              {"t": table}).scalar_one()
        # A table SQLite made again under another name is named in quotes.
        conn.execute(text(re.sub(r'^CREATE TABLE\s+"?\w+"?', f"CREATE TEMP TABLE {copy}",
                                 create, count=1)))
    return copy
