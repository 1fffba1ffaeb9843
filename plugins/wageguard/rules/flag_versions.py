"""Writing night D's flags into the flag versions (schema 0017).

A flag that holds night after night with the same content is one row, whose
first and last nights bound the evaluated nights it spans; `flag_night`, a
view, gives each night's flags from them. Night D's flags replace whatever D
held, whichever nights before and after it were evaluated already (a re-run,
a backfill in reverse order).

A version holding through the latest evaluated night is open: its last night
is OPEN_END, after every night, so the night after it continues it without
writing it. On PostgreSQL a written row is a new row until VACUUM, and moving
every open flag's last night each night grew the warehouse by some 0.2 MB a
night at 20,000 projects with nothing changed. So the night every scheduled
run writes, the latest, writes only the flags that end, change or start
(sql/flags/write_latest_night.sql); a night with later nights evaluated cuts
the versions spanning it (sql/flags/cut_around_night.sql) and joins them again
around its own flags (sql/flags/join_after_night.sql). Either way the night's
new versions start in sql/flags/start_versions.sql."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, text

from wageguard.db.bulk import refresh_statistics, write_rows
from wageguard.db.sqlfiles import run_file
from wageguard.db.values import as_date

# The last night of an open version: later than any night, so that "the
# versions holding on night D" stays `first_night <= D <= last_night`.
OPEN_END = dt.date(9999, 12, 31)

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
    latest = conn.execute(text("SELECT MAX(run_date) FROM evaluated_night")).scalar()
    params = {"run_date": run_date, "open_end": OPEN_END}
    if latest is None or as_date(latest) <= run_date:
        run_file(conn, "flags/write_latest_night.sql", params)
        run_file(conn, "flags/start_versions.sql", {**params, "ends": OPEN_END})
    else:
        run_file(conn, "flags/cut_around_night.sql", params)
        run_file(conn, "flags/start_versions.sql", {**params, "ends": run_date})
        run_file(conn, "flags/join_after_night.sql", params)
    conn.execute(text("DROP TABLE night_flag"))
    refresh_statistics(conn, ["flag_version", "evaluated_night"])
