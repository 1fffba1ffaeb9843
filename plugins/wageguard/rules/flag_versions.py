"""Writing night D's flags into the flag versions (schema 0017).

A flag that holds night after night with the same content is one row, whose
first and last nights bound the evaluated nights it spans; `flag_night`, a
view, gives each night's flags from them. Night D's flags replace whatever D
held, whichever nights before and after it were evaluated already (a re-run,
a backfill in reverse order): sql/flags/write_night.sql cuts the versions
spanning D, carries on those the night continues unchanged, and starts the
others. On a night like the one before, it only moves versions' last nights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from wageguard.db.bulk import refresh_statistics, write_rows
from wageguard.db.sqlfiles import run_file

# What a flag is on a night: its identity, then its content.
FLAG_COLUMNS = ("project_id", "rule", "base_severity", "raised_on", "rule_version", "detail",
                "district_code", "project_name")


def stage_night_flags(conn: Connection, flags: Iterable[Iterable[Sequence[object]]]) -> None:
    """Holds `flags`, batches of rows in FLAG_COLUMNS order, in the
    transaction's night_flag, for SQL to finish them (sql/flags/lifecycle.sql)
    before keep_night_flags keeps them. A batch is written before the next is
    taken, so a batch may be found by a query: on PostgreSQL none may run while
    a batch is copied in."""
    run_file(conn, "flags/night_flag.sql")
    for batch in flags:
        write_rows(conn, "night_flag", FLAG_COLUMNS, batch, may_exist=False)


def keep_night_flags(conn: Connection, run_date: dt.date) -> None:
    """Night D's flags become those staged in night_flag."""
    # PostgreSQL plans joins over fresh rows from their statistics: without
    # them, a first night's export of its flags once took 86 s, not 0.1 s.
    refresh_statistics(conn, ["night_flag"])
    run_file(conn, "flags/write_night.sql", {"run_date": run_date})
    refresh_statistics(conn, ["flag_version", "evaluated_night"])
