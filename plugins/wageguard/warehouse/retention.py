"""How long the warehouse keeps what it needs to re-run a night.

After night D is published, nights older than WAGEGUARD_RETENTION_DAYS (400 by
default: a year's audit, with a margin) are past the horizon. What only they
could see goes: record versions superseded by one loaded before the oldest
kept night's knowledge cutoff, dev-reform bundles older than its bundle, and
the payloads no stored version holds any more. The flags, dispositions,
deliveries, the pull ledger and the published files of every night are kept;
a night past the horizon can no longer be re-run, and asking for it says so.
The space is given back (`reclaim_space`)."""

from __future__ import annotations

import datetime as dt
import os

from sqlalchemy import Connection, Engine, text

from wageguard.db.values import as_date
from wageguard.landing.store import now_text
from wageguard.tables import ALL, SourceTable

RETENTION_ENV = "WAGEGUARD_RETENTION_DAYS"
DEFAULT_DAYS = 400


class RetiredNightError(RuntimeError):
    """A night older than the retention horizon was asked to run again."""


def retention_days() -> int:
    configured = os.environ.get(RETENTION_ENV, "")
    if not configured:
        return DEFAULT_DAYS
    if not configured.isdigit() or int(configured) < 1:
        raise ValueError(f"{RETENTION_ENV}={configured!r}: give a whole number of days, "
                         f"at least 1 (default {DEFAULT_DAYS})")
    return int(configured)


def refuse_retired_night(conn: Connection, run_date: dt.date) -> None:
    horizon = as_date(conn.execute(text("SELECT horizon FROM retention WHERE id = 1")).scalar())
    if horizon is not None and run_date < horizon:
        raise RetiredNightError(
            f"night {run_date} is older than the retention horizon {horizon} "
            f"({RETENTION_ENV}={retention_days()}): the record versions only it could see "
            "were reclaimed, so it can no longer be re-run. Its published files, flags, "
            "dispositions and deliveries are kept.")


def _superseded(table: SourceTable) -> str:
    """Versions a newer one, loaded by the horizon's cutoff, hides from every
    night on or after the horizon (nights are first published in date order,
    so their cutoffs are later)."""
    t = table.version_table
    same = " AND ".join(f"n.{column} = {t}.{column}" for column in table.key)
    return (f"DELETE FROM {t} WHERE EXISTS (SELECT 1 FROM {t} n WHERE {same} "
            f"AND n.loaded_at <= :cutoff AND (n.updated_at > {t}.updated_at OR "
            f"(n.updated_at = {t}.updated_at AND n.payload_hash > {t}.payload_hash)))")


def apply_retention(conn: Connection, run_date: dt.date, days: int) -> dict[str, int]:
    """Moves the horizon to the oldest published night within `days` of D and
    drops what no night from there on can see; returns the rows dropped."""
    oldest = conn.execute(text(
        "SELECT run_date, knowledge_cutoff, bundle_day FROM night WHERE run_date >= :h "
        "ORDER BY run_date LIMIT 1"), {"h": run_date - dt.timedelta(days=days)}).first()
    if oldest is None:
        return {}
    dropped: dict[str, int] = {}
    for table in ALL:
        if table.system == "devreform":
            if oldest.bundle_day is not None:
                dropped[table.version_table] = conn.execute(text(
                    f"DELETE FROM {table.version_table} WHERE valid_to <= :b"),
                    {"b": oldest.bundle_day}).rowcount
        else:
            dropped[table.version_table] = conn.execute(
                text(_superseded(table)), {"cutoff": oldest.knowledge_cutoff}).rowcount
    # A pull landed and never loaded keeps its payloads.
    done = "SELECT batch_id FROM load_batch WHERE run_date < :h AND status <> 'landed'"
    # Set difference, which both warehouses do whole: PostgreSQL runs a NOT IN
    # list that outgrows work_mem as a scan of it for every row, and SQLite a
    # NOT EXISTS as a scan of each version table (no index on its hash).
    held = "".join(f" EXCEPT SELECT payload_hash FROM {t.version_table}" for t in ALL)
    dropped["payload"] = conn.execute(text(
        "DELETE FROM payload WHERE payload_hash IN ("
        f"SELECT payload_hash FROM payload WHERE batch_id IN ({done}){held})"),
        {"h": oldest.run_date}).rowcount
    conn.execute(text("DELETE FROM retention WHERE id = 1"))
    conn.execute(text("INSERT INTO retention (id, horizon, applied_at) VALUES (1, :h, :t)"),
                 {"h": oldest.run_date, "t": now_text()})
    return {table: n for table, n in dropped.items() if n}


# SQLite reuses the pages of dropped rows for the next nights' rows; the file
# is rewritten (VACUUM, which costs the whole file) only once this share of it
# lies free.
FREE_SHARE_TO_RECLAIM = 0.25


def reclaim_space(engine: Engine) -> bool:
    """Makes the space of the rows a night dropped (its snapshot, on
    PostgreSQL the old forms of the rows it updated) usable by the next
    night's; returns whether the warehouse's file was rewritten to give space
    back.
    PostgreSQL keeps a dropped row's space until a VACUUM: autovacuum comes
    when it comes, and without one between them each of a run of nights (a
    backfill) would add to the tables what the night before dropped. An index
    page a VACUUM empties is reusable only once no transaction begun before
    it runs, so a second VACUUM, after the first, frees those too. Plain
    VACUUM, not VACUUM FULL: nothing is locked or rewritten, and what it finds
    unchanged since the last it skips."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for _ in range(2):
                conn.exec_driver_sql("VACUUM")
        return False
    if engine.dialect.name != "sqlite":
        return False
    # The driver's own connection: VACUUM runs outside any transaction, and the
    # engine begins every one of its transactions itself (warehouse/engine.py).
    raw = engine.raw_connection()
    try:
        sqlite = raw.driver_connection
        assert sqlite is not None, "a connection in use has its driver connection"
        pages = sqlite.execute("PRAGMA page_count").fetchone()[0]
        free = sqlite.execute("PRAGMA freelist_count").fetchone()[0]
        if not pages or free / pages < FREE_SHARE_TO_RECLAIM:
            return False
        sqlite.execute("VACUUM")
    finally:
        raw.close()
    return True
