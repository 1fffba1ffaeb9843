"""Night D's snapshot held against the last published night's: a source that
changes its format without breaking a single check (万元 sent where 元 was
promised, a date column gone, a pull cut short) moves the night's profile
(sql/checks/night_profile.sql) beyond what a province does in a day. Such a
night is stopped before its rules run, with the numbers, unless an engineer
has accepted the change for that night (`wageguard accept-drift`)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, text

from wageguard.db.sqlfiles import execute_many, read_sql, used_params
from wageguard.db.values import as_date
from wageguard.landing.store import now_text
from wageguard.sources.rest_feeds import closed_months

log = logging.getLogger(__name__)

_DEVREFORM = ("investment_projects", "fund_disbursements")


class NightDrift(RuntimeError):
    """Night D's sources changed beyond the drift thresholds; nothing was published."""


@dataclass(frozen=True)
class Drift:
    table: str
    metric: str
    before: float
    now: float | None

    def __str__(self) -> str:
        return f"{self.table} {self.metric} {_shown(self.before)} → {_shown(self.now)}"


def _shown(value: float | None) -> str:
    return "none" if value is None else f"{value:.6g}" if value < 1 else f"{value:.10g}"


def profile(conn: Connection, run_date: dt.date, bundle_day: dt.date | None,
            params: dict) -> dict[tuple[str, str], float | None]:
    """Night D's profile: {(source table, metric): value}. Without a bundle the
    dev-reform tables have nothing to say."""
    sql = read_sql("checks/night_profile.sql")
    bound = {"run_date": run_date, "bundle_day": bundle_day,
             "closed_month": closed_months(run_date, 1, params["month_closes_on_day"])[0]}
    return {(r.source_table, r.metric): None if r.value is None else float(r.value)
            for r in conn.execute(text(sql), used_params(sql, bound))
            if bundle_day is not None or r.source_table not in _DEVREFORM}


def _drifted(metric: str, rows_before: float, before: float | None, now: float | None,
             params: dict) -> bool:
    if before is None or rows_before < params["drift.min_rows"]:
        return False  # too few records the night before to call anything sudden
    if metric == "rows":
        return abs((now or 0.0) - before) > before * float(params["drift.max_rows_change"])
    if metric.endswith("_share") or "_share:" in metric:
        return now is not None and abs(now - before) > float(params["drift.max_share_change"])
    if before <= 0:
        return False
    if not now or now <= 0:
        return True
    return max(now / before, before / now) > float(params["drift.max_median_ratio"])


def drift_report(conn: Connection, run_date: dt.date, bundle_day: dt.date | None,
                 params: dict) -> dict:
    """Night D's recorded profile held against the last published night's
    before D: what moved too far, and whether an engineer accepted it. Read
    again by the run report, so it says what the rules stage decided."""
    now = {(r.source_table, r.metric): r.value for r in conn.execute(text(
        "SELECT source_table, metric, value FROM night_profile WHERE run_date = :d"),
        {"d": run_date})}
    previous = as_date(conn.execute(text(
        "SELECT MAX(n.run_date) FROM night n WHERE n.run_date < :d AND EXISTS "
        "(SELECT 1 FROM night_profile p WHERE p.run_date = n.run_date)"),
        {"d": run_date}).scalar())
    report: dict = {"compared_with": previous and previous.isoformat(), "drifted": [],
                    "accepted": None}
    if previous is None:
        return report
    before = {(r.source_table, r.metric): r.value for r in conn.execute(text(
        "SELECT source_table, metric, value FROM night_profile WHERE run_date = :d"),
        {"d": previous})}
    report["drifted"] = [
        asdict(Drift(table, metric, value, now.get((table, metric))))
        for (table, metric), value in sorted(before.items())
        if (table not in _DEVREFORM or bundle_day is not None) and _drifted(
            metric, before.get((table, "rows")) or 0.0, value, now.get((table, metric)), params)
    ]
    accepted = conn.execute(text(
        "SELECT reason, accepted_by FROM drift_acceptance WHERE run_date = :d"),
        {"d": run_date}).first()
    if report["drifted"] and accepted is not None:
        report["accepted"] = f"{accepted.reason} ({accepted.accepted_by})"
    return report


def check_night_drift(conn: Connection, run_date: dt.date, bundle_day: dt.date | None,
                      params: dict) -> dict:
    """Records night D's profile and holds it against the last published night's.
    Raises NightDrift listing what moved too far, unless the drift of D was
    accepted; returns the drift report."""
    now = profile(conn, run_date, bundle_day, params)
    conn.execute(text("DELETE FROM night_profile WHERE run_date = :d"), {"d": run_date})
    execute_many(conn, text(
        "INSERT INTO night_profile (run_date, source_table, metric, value) "
        "VALUES (:d, :t, :m, :v)"),
        [{"d": run_date, "t": t, "m": m, "v": v} for (t, m), v in sorted(now.items())])
    report = drift_report(conn, run_date, bundle_day, params)
    if not report["drifted"]:
        return report
    found = "; ".join(str(Drift(**d)) for d in report["drifted"])
    if report["accepted"]:
        log.warning("night %s: drift since night %s accepted (%s): %s", run_date,
                    report["compared_with"], report["accepted"], found)
        return report
    raise NightDrift(
        f"night {run_date}: the sources changed beyond the drift thresholds since night "
        f"{report['compared_with']} (drift.* parameters): {found}. No rule was run and "
        "nothing was published. If a source changed its format, get it fixed and re-run the "
        "night; if the change is real (a bulk correction, districts merged in), accept it "
        f"with `wageguard accept-drift --date {run_date} --reason \"…\"` and re-run the "
        "night.")


def accept_drift(conn: Connection, run_date: dt.date, reason: str, accepted_by: str) -> None:
    """An engineer's word that night D's drift is real; kept with who and why."""
    conn.execute(text("DELETE FROM drift_acceptance WHERE run_date = :d"), {"d": run_date})
    conn.execute(text(
        "INSERT INTO drift_acceptance (run_date, reason, accepted_by, accepted_at) "
        "VALUES (:d, :r, :b, :t)"),
        {"d": run_date, "r": reason, "b": accepted_by, "t": now_text()})
