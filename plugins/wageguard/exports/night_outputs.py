"""Writing everything night D hands out, then publishing the night: the files
move into <root>/<YYYY-MM-DD> only after the warehouse has recorded the
export, so a failure leaves neither a half folder nor a half-recorded night."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text

from wageguard.db.sqlfiles import execute_many
from wageguard.exports.blacklist import export_blacklist
from wageguard.exports.dashboard import OverdueRed, write_dashboard
from wageguard.exports.data_docs import DataDocs
from wageguard.exports.district_lists import DistrictLists
from wageguard.exports.engineer_reports import (
    source_counts,
    stage_timings,
    write_links,
    write_resolution,
    write_run_report,
)
from wageguard.exports.flag_list import (
    OpenFlag,
    Summary,
    flag_summary,
    open_flags,
    open_flags_once,
    resolved_since,
    top_contractors,
    trends,
    write_flags_csv,
)
from wageguard.exports.publish import night_folder, output_root
from wageguard.handover import Ingested
from wageguard.rules.catalogue import Rule, load_rules
from wageguard.rules.params import as_json, load_params
from wageguard.validate.night_drift import drift_report
from wageguard.warehouse.engine import describe
from wageguard.warehouse.night import NightView, previous_night, publish_night, stage_seconds

if TYPE_CHECKING:
    from wageguard.delivery.roster import RosterDistrict

log = logging.getLogger(__name__)


def _devreform_report(view: NightView, ingested: list[Ingested], stale_after: int) -> dict:
    pull = next((e for e in ingested if e["feed"] == "devreform"), None)
    if view.bundle_day is None:
        why = (pull.get("error") if pull else None) or "no dev-reform bundle loaded"
        return {"bundle_day": None, "age_days": None, "stale": True,
                "note": f"{why}: GI1 was not evaluated"}
    age = (view.run_date - view.bundle_day).days
    return {"bundle_day": view.bundle_day.isoformat(), "age_days": age,
            "stale": age > stale_after, "skipped": pull.get("skipped", []) if pull else []}


def _roster_districts() -> Iterable[RosterDistrict]:
    """The roster's districts, when there is a usable roster; otherwise none, and
    the board shows codes (delivery reports the roster's problems, the board
    need not fail for them)."""
    from wageguard.delivery.roster import RosterError, load_roster, roster_path

    if not roster_path().is_file():
        return []
    try:
        return load_roster().values()
    except RosterError as problems:
        log.warning("the board shows codes, not names: %s", problems)
        return []


def keep_roster(conn: Connection, districts: Iterable[RosterDistrict]) -> None:
    """Keeps the roster's districts in roster_district, where the night's
    summaries read their cities and names."""
    conn.execute(text("DELETE FROM roster_district"))
    execute_many(conn, text(
        "INSERT INTO roster_district (district_code, district_name, city_code, city_name) "
        "VALUES (:code, :name, :city_code, :city_name)"),
        [{"code": d.code, "name": d.name, "city_code": d.city_code, "city_name": d.city_name}
         for d in districts])


def _passing(flags: Iterator[OpenFlag], *sinks: Callable[[OpenFlag], None]
             ) -> Iterator[OpenFlag]:
    for flag in flags:
        for sink in sinks:
            sink(flag)
        yield flag


def _run_report_flags(summary: Summary, rules: dict[str, Rule]) -> dict:
    """The flags' part of run_report.json: every open flag, listed or not."""
    province = summary.of("province", "")
    return {
        "flags_per_rule": {code: summary.of("province", "", code).flags for code in rules},
        "flags_total": province.flags,
        "new_since_previous": province.flags_new,
        "resolved_since_previous": province.resolved,
        "overdue": province.flags_overdue,
        "status": {status: count for status, count in (
            ("exempted", province.exempted), ("false_positive", province.false_positive),
            ("open", province.listed)) if count},
    }


def write_night_outputs(eng: Engine, view: NightView, ingested: list[Ingested],
                        lock_token: str, signing_key_pem: str | None = None) -> dict:
    """`lock_token`: the run's hold on the warehouse (warehouse/lock.py), ended
    by the transaction that publishes the night."""
    params = load_params()
    rules = {r.code: r for r in load_rules()}
    root = output_root()
    run_date = view.run_date
    batch_ids = [b for e in ingested for b in e.get("batch_ids", [])]
    with (night_folder(root, run_date) as folder, eng.begin() as conn,
          DataDocs(conn, folder / "data_docs", batch_ids) as docs):
        previous = previous_night(conn, run_date)
        keep_roster(conn, _roster_districts())
        trend = trends(conn, run_date)
        overdue_red = OverdueRed()
        with open_flags_once(conn, run_date, previous, params):
            summary = flag_summary(conn, run_date, previous, params)
            district_lists = DistrictLists(folder / "lists", view, summary,
                                           resolved_since(conn, run_date, previous), trend,
                                           rules, params)
            # One pass over the night's flags writes flags.csv, each district's
            # list as its flags end, and gathers what the board lists.
            flag_count = write_flags_csv(folder / "flags.csv", _passing(
                open_flags(conn, run_date, previous, params, view.bundle_day),
                district_lists.add, overdue_red.add))
            contractors = top_contractors(conn, run_date, previous, params)
        lists = district_lists.close()
        blacklist = export_blacklist(conn, folder / "blacklist", run_date, signing_key_pem,
                                     knowledge_cutoff=view.knowledge_cutoff)
        parties = write_resolution(conn, folder / "resolution.csv", run_date)
        links = write_links(conn, folder / "links.csv", run_date)
        publish_night(conn, view, as_json(params), lock_token)
        counted = _run_report_flags(summary, rules)
        report = {
            "run_date": run_date.isoformat(),
            "warehouse": describe(eng),
            "knowledge_cutoff": view.knowledge_cutoff,
            "rerun": view.rerun,
            "previous_night": previous.isoformat() if previous else None,
            "sources": source_counts(conn, run_date, view.knowledge_cutoff),
            "devreform": _devreform_report(view, ingested,
                                           params["devreform.stale_after_days"]),
            "drift": drift_report(conn, run_date, view.bundle_day, params),
            **counted,
            "districts": lists,
            "parties": parties,
            "links": links,
            "blacklist": blacklist,
        }
        write_dashboard(conn, folder / "dashboard", run_date, summary, overdue_red, trend,
                        contractors, report, rules)
        # Rendered alongside everything above; a renderer that failed fails the export,
        # so the night is neither recorded nor published without its Data Docs.
        stage_seconds(conn, run_date, "docs", docs.started_at, docs.finish(), len(docs.pulls),
                      len(docs.pages))
        report["stage_seconds"] = stage_timings(conn, run_date)
        write_run_report(folder / "run_report.json", report)
    log.info("night %s published to %s: %d flags %s", run_date, root / run_date.isoformat(),
             flag_count, counted["flags_per_rule"])
    return {"folder": str(root / run_date.isoformat()), "flags": flag_count,
            "flags_per_rule": counted["flags_per_rule"], "blacklist": blacklist}
