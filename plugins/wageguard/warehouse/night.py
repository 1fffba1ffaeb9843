"""Building night D's view of the world: which record versions it sees (its
knowledge cutoff), which dev-reform bundle it uses, and the night_* tables the
rules read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, text

from wageguard.db.bulk import refresh_statistics
from wageguard.db.sqlfiles import files_in, run_file
from wageguard.db.values import as_date
from wageguard.handover import NightViewJson
from wageguard.landing.store import now_text
from wageguard.warehouse.lock import NIGHT, in_the_way, release, take_turn
from wageguard.warehouse.retention import refuse_retired_night

# Built from the core versions by sql/core/, then resolved from them in Python
# (parties, links, required deposits); a night rebuilds both.
SNAPSHOT_TABLES = (
    "night_project", "night_account", "night_deposit", "night_realname_month",
    "night_enterprise", "night_list_entry",
)
RESOLVED_TABLES = ("night_party", "night_link", "night_required_deposit")
NIGHT_TABLES = SNAPSHOT_TABLES + RESOLVED_TABLES


class LateNightError(RuntimeError):
    """A night never published is run after a later night was: the sources
    serve only their current state, so what it knew can no longer be seen."""


@dataclass(frozen=True)
class NightView:
    run_date: dt.date
    knowledge_cutoff: str
    bundle_day: dt.date | None
    rerun: bool  # the night was published before: reproduce it

    def to_json(self) -> NightViewJson:
        return {
            "run_date": self.run_date.isoformat(),
            "knowledge_cutoff": self.knowledge_cutoff,
            "bundle_day": self.bundle_day.isoformat() if self.bundle_day else None,
            "rerun": self.rerun,
        }

    @classmethod
    def from_json(cls, data: NightViewJson) -> NightView:
        return cls(
            run_date=dt.date.fromisoformat(data["run_date"]),
            knowledge_cutoff=data["knowledge_cutoff"],
            bundle_day=dt.date.fromisoformat(data["bundle_day"]) if data["bundle_day"] else None,
            rerun=data["rerun"],
        )


def previous_night(conn: Connection, run_date: dt.date) -> dt.date | None:
    """The last night published before `run_date`: the night a flag's lifecycle
    and "new since" are told against."""
    return as_date(conn.execute(
        text("SELECT MAX(run_date) FROM night WHERE run_date < :d"), {"d": run_date}
    ).scalar())


def refuse_late_night(conn: Connection, run_date: dt.date) -> None:
    """Night D, never published, may not be published once a later night was."""
    later = as_date(conn.execute(
        text("SELECT MIN(run_date) FROM night WHERE run_date > :d"), {"d": run_date}
    ).scalar())
    if later is not None:
        raise LateNightError(
            f"night {run_date} was never published but the later night {later} was: the "
            f"sources now serve only what they hold today, so {run_date} would be published "
            "with later data under its date and the later nights' flag history would not "
            "include it. Backfill never-run nights oldest first, before later nights are "
            "published; nights already published may be re-run in any order."
        )


def night_view(conn: Connection, run_date: dt.date, max_lookback_days: int) -> NightView:
    """A published night keeps its cutoff and bundle; a new night sees all that
    is loaded now and the newest complete bundle loaded for a day on or before D
    and within the look-back."""
    published = conn.execute(
        text("SELECT knowledge_cutoff, bundle_day FROM night WHERE run_date = :d"),
        {"d": run_date},
    ).first()
    if published:
        refuse_retired_night(conn, run_date)
        return NightView(run_date, published.knowledge_cutoff, as_date(published.bundle_day), True)
    refuse_late_night(conn, run_date)
    bundle_day = conn.execute(
        text(
            "SELECT MAX(bundle_day) FROM load_batch WHERE source_table = 'fund_disbursements' "
            "AND status = 'loaded' AND bundle_day <= :d AND bundle_day >= :oldest "
            "AND bundle_day IN ("
            "SELECT bundle_day FROM load_batch WHERE source_table = 'investment_projects' "
            "AND status = 'loaded')"
        ),
        {"d": run_date, "oldest": run_date - dt.timedelta(days=max_lookback_days)},
    ).scalar()
    return NightView(run_date, now_text(), as_date(bundle_day), False)


def build_snapshots(conn: Connection, view: NightView) -> dict[str, int]:
    """Rebuilds night D's night_* tables from the core versions it may see.
    Whatever another night left there (a run stopped before publishing) goes
    too: no night reads another's snapshot."""
    for table in NIGHT_TABLES:
        conn.execute(text(f"DELETE FROM {table}"))
    params = {"run_date": view.run_date, "cutoff": view.knowledge_cutoff}
    for path in files_in("core"):
        run_file(conn, path, params)
    # The night's resolution and rules plan their joins over these fresh rows.
    refresh_statistics(conn, SNAPSHOT_TABLES)
    counts = {}
    for table in SNAPSHOT_TABLES:
        counts[table] = conn.execute(
            text(f"SELECT COUNT(*) FROM {table} WHERE run_date = :d"), {"d": view.run_date}
        ).scalar_one()
    return counts


def has_snapshot(conn: Connection, run_date: dt.date) -> bool:
    return conn.execute(text("SELECT 1 FROM night_project WHERE run_date = :d LIMIT 1"),
                        {"d": run_date}).first() is not None


def prune_snapshots(conn: Connection) -> int:
    """Drops the night_* rows once a night is published: a re-run, or `why`,
    rebuilds a night from the versions and its knowledge cutoff, and what later
    nights read of an earlier one (its flags, their district and project name)
    is in flag_night. The next night's pulls and snapshot take the pages they
    free, so that nothing a night only needs while it runs stays in the
    warehouse. Not while another run holds the warehouse: as soon as the night
    was published, the next (or the same night again) may have merged, and
    that run drops its own snapshot when it publishes. Returns the rows dropped."""
    take_turn(conn)
    standing, _ = in_the_way(conn, NIGHT)
    if standing is not None:
        return 0
    return sum(conn.execute(text(f"DELETE FROM {table}")).rowcount for table in NIGHT_TABLES)


def publish_night(conn: Connection, view: NightView, params_json: str, lock_token: str) -> None:
    """Records that night D was published, in the transaction that writes its
    files, and ends the run's hold on the warehouse with it; its first cutoff
    and bundle stay. What was checked at merge is checked again here, with the
    warehouse's turn held to the end of the transaction: the run still holds
    the night (its merge was not taken over), and no later night was published
    meanwhile."""
    take_turn(conn)
    release(conn, NIGHT, view.run_date, lock_token)
    now = now_text()
    # Published before: a re-run, or this very run's export run again alone.
    if conn.execute(text("SELECT 1 FROM night WHERE run_date = :d"), {"d": view.run_date}).first():
        conn.execute(
            text("UPDATE night SET last_published_at = :t, params = :p WHERE run_date = :d"),
            {"t": now, "p": params_json, "d": view.run_date},
        )
        return
    refuse_late_night(conn, view.run_date)
    conn.execute(
        text(
            "INSERT INTO night (run_date, knowledge_cutoff, bundle_day, params, "
            "first_published_at, last_published_at) VALUES (:d, :c, :b, :p, :t, :t)"
        ),
        {"d": view.run_date, "c": view.knowledge_cutoff, "b": view.bundle_day,
         "p": params_json, "t": now},
    )


def stage_seconds(conn: Connection, run_date: dt.date, stage: str, started_at: str,
                  seconds: float, rows_in: int | None = None,
                  rows_out: int | None = None) -> None:
    conn.execute(text("DELETE FROM stage_run WHERE run_date = :d AND stage = :s"),
                 {"d": run_date, "s": stage})
    conn.execute(
        text("INSERT INTO stage_run VALUES (:d, :s, :at, :sec, :i, :o)"),
        {"d": run_date, "s": stage, "at": started_at, "sec": seconds, "i": rows_in, "o": rows_out},
    )

