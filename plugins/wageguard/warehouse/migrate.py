"""Brings a warehouse's schema up to date by applying sql/schema/NNNN_*.sql in
order, each in its own transaction, and recording the applied version."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine, text

from wageguard.warehouse.sqlfiles import files_in, run_file

log = logging.getLogger(__name__)

_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def _version_of(path: str) -> int:
    return int(path.split("/")[-1].split("_", 1)[0])


def migrate(engine: Engine) -> int:
    """Apply every migration newer than the warehouse; returns the version."""
    with engine.begin() as conn:
        conn.execute(text(_VERSION_TABLE))
    with engine.connect() as conn:
        applied = {row[0] for row in conn.execute(text("SELECT version FROM schema_version"))}
    for path in files_in("schema"):
        version = _version_of(path)
        if version in applied:
            continue
        log.info("applying warehouse migration %s", path)
        with engine.begin() as conn:
            run_file(conn, path)
            conn.execute(
                text("INSERT INTO schema_version VALUES (:v, :n, :t)"),
                {"v": version, "n": path, "t": dt.datetime.now(dt.UTC).isoformat()},
            )
    with engine.connect() as conn:
        return conn.execute(text("SELECT max(version) FROM schema_version")).scalar_one()

