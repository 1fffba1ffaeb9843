"""The nightly stages as plain functions: the DAG's tasks call these and
nothing else, so every stage also runs (and is tested) without Airflow.

A night is keyed by its run date D. Every stage can be re-run alone:
ingest_feed lands a new batch and loads it (a version the warehouse holds is
not written again), and the night stages rebuild night D's tables whole. From
merge to publish the run holds the warehouse (warehouse/lock.py): build_night
takes the hold and hands its token on with the night's view, evaluate and
export carry it on, and publishing ends it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import time
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, text

from wageguard.delivery.settings import SMTP_CONNECTION, SmtpSettings
from wageguard.handover import BuiltNight, Ingested, Materialised
from wageguard.landing.store import Batch, Landed, LandedRecords, land, now_text
from wageguard.paths import var_dir
from wageguard.plan import TIMEZONE
from wageguard.rules.params import Params, load_params
from wageguard.sources.config import SourceConfig
from wageguard.warehouse.engine import make_engine, warehouse_url
from wageguard.warehouse.lock import NIGHT, holding
from wageguard.warehouse.migrate import migrate
from wageguard.warehouse.night import NightView, prune_snapshots, stage_seconds
from wageguard.warehouse.retention import apply_retention, reclaim_space, retention_days

log = logging.getLogger(__name__)


@cache
def _engine_for(url: str) -> Engine:
    return make_engine(url)


def engine() -> Engine:
    """One engine (one connection pool) per warehouse URL for the process."""
    return _engine_for(warehouse_url())


class FutureNightError(ValueError):
    """Night D is asked for before its day has come."""


def latest_runnable_night() -> dt.date:
    """Today, in the inspectorate's time zone: the latest night that may be run."""
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def refuse_future_night(run_date: dt.date) -> None:
    """The sources serve what they hold now, so a night later than today would
    go out with today's data under its date, and once published it would bar
    every real night before it (a night never published cannot be run once a
    later one was)."""
    today = latest_runnable_night()
    if run_date > today:
        raise FutureNightError(
            f"night {run_date} is later than today ({today} in {TIMEZONE}, by this server's "
            f"clock): a night is run once its day has come, with what the sources hold then. "
            f"Check the run date (a typo, a backfill's --to-date) and the server's clock; "
            f"night {run_date} can be run from {run_date} on.")


@contextmanager
def timed(eng: Engine, run_date: dt.date, stage: str, counts: dict):
    """Records the stage's seconds and row counts in the run ledger."""
    started_at, started = now_text(), time.monotonic()
    yield
    with eng.begin() as conn:
        stage_seconds(conn, run_date, stage, started_at, time.monotonic() - started,
                      counts.get("in"), counts.get("out"))


def prepare_warehouse() -> int:
    """Refuses a suite validation cannot honour exactly, then brings the
    warehouse's schema up to date."""
    from wageguard.validate.suite_checks import check_suites

    log.info("suites: %d expectations, each applicable as GX would", check_suites())
    return migrate(engine())


def _watermark(eng: Engine, table: str) -> str | None:
    with eng.connect() as conn:
        return conn.execute(
            text("SELECT watermark FROM source_watermark WHERE source_table = :t"), {"t": table}
        ).scalar()


def ingest_feed(feed: str, run_date: dt.date, config: SourceConfig) -> Ingested:
    """Pulls one feed and lands it as batches of night D, then validates and
    loads each batch from its records as they landed: decoded once from the
    source, never read back from the warehouse."""
    from wageguard.warehouse.load import load_batch

    refuse_future_night(run_date)
    eng = engine()
    counts: dict = {}
    with timed(eng, run_date, f"extract:{feed}", counts):
        if feed == "devreform":
            result, landed = _extract_devreform(eng, run_date, config)
        else:
            result, landed = _extract_rest(eng, feed, run_date, config)
        counts["out"] = result["pulled"]
    params = load_params()
    result["loaded"] = [load_batch(eng, batch, records,
                                   max_bad_share=params["validate.max_bad_share"],
                                   min_rows_for_share=params["validate.min_rows_for_share"])
                        for batch, records in landed]
    return result


# A feed's pull as landed: what it brought, and each batch with its landed records.
_Pulled = tuple[Ingested, list[tuple[Batch, LandedRecords]]]


def _extract_rest(eng: Engine, table: str, run_date: dt.date, config: SourceConfig) -> _Pulled:
    from wageguard.sources.rest_feeds import FEEDS, closed_months, pull_feed

    params = load_params()
    feed = FEEDS[table]
    watermark = _watermark(eng, table) if feed.incremental else None
    months = closed_months(run_date, 1, params["month_closes_on_day"])
    pull = pull_feed(feed, config, watermark=watermark, months=months)
    landed = Landed()
    with eng.begin() as conn:
        batch = land(
            conn, run_date=run_date, source_table=table, source=config.location + feed.path,
            records=pull.records, watermark_from=watermark,
            watermark_to=pull.server_time if feed.incremental else None, landed=landed,
        )
    return ({"feed": table, "batch_ids": [batch.batch_id], "pulled": batch.pulled,
             "loaded": [], "months": None if feed.incremental else months},
            [(batch, landed.records(pull.records))])


def _extract_devreform(eng: Engine, run_date: dt.date, config: SourceConfig) -> _Pulled:
    from wageguard.sources.devreform import NoBundleError, newest_complete_bundle

    params = load_params()
    try:
        bundle = newest_complete_bundle(config, run_date, params["devreform.max_lookback_days"])
    except NoBundleError as missing:
        # The other rules must still reach the inspectors; GI1 waits for a bundle
        # and run_report.json says so.
        log.error("%s; GI1 is not evaluated tonight", missing)
        return ({"feed": "devreform", "batch_ids": [], "pulled": 0, "loaded": [],
                 "bundle_day": None, "skipped": [], "error": str(missing)}, [])
    batches: list[tuple[Batch, LandedRecords]] = []
    with eng.begin() as conn:
        for table, rows in bundle.rows.items():
            landed = Landed()
            batch = land(
                conn, run_date=run_date, source_table=table,
                source=f"{config.location}/{bundle.day:%Y%m%d}/{table}.csv",
                records=rows, bundle_day=bundle.day, landed=landed,
            )
            batches.append((batch, landed.records(rows)))
    age = (run_date - bundle.day).days
    if age > params["devreform.stale_after_days"]:
        log.warning("dev-reform bundle %s is %d days old: stale, used anyway", bundle.day, age)
    return ({"feed": "devreform", "batch_ids": [b.batch_id for b, _ in batches],
             "pulled": sum(b.pulled for b, _ in batches), "loaded": [],
             "bundle_day": bundle.day.isoformat(), "skipped": bundle.skipped}, batches)


def build_night(run_date: dt.date) -> BuiltNight:
    from wageguard.warehouse.night import night_view

    refuse_future_night(run_date)
    eng = engine()
    params = load_params()
    counts: dict = {}
    with (holding(eng, NIGHT, run_date) as lock, timed(eng, run_date, "merge", counts),
          eng.begin() as conn):
        view = night_view(conn, run_date, params["devreform.max_lookback_days"])
        built = _materialise(conn, view, params)
        counts["out"] = built["snapshot"]["night_project"]
    log.info("night %s: %s", run_date, built)
    return {**view.to_json(), **built, "lock": lock}


def _materialise(conn: Connection, view: NightView, params: Params) -> Materialised:
    """Night D's snapshot of the versions it may see, and who is who in it."""
    from wageguard.db.bulk import refresh_statistics
    from wageguard.identity.night import link_projects, resolve_parties
    from wageguard.rules.deposit import compute_required_deposits
    from wageguard.warehouse.night import RESOLVED_TABLES, build_snapshots

    snapshot = build_snapshots(conn, view)
    parties = resolve_parties(conn, view.run_date)
    links = link_projects(conn, view.run_date, view.bundle_day)
    deposits = compute_required_deposits(conn, view.run_date, params)
    # Parties, links and deposits are fresh rows too, and the rules join them.
    refresh_statistics(conn, RESOLVED_TABLES)
    return {"snapshot": snapshot, "parties": parties, "links": links, "deposits": deposits}


def rebuild_published_night(conn: Connection, run_date: dt.date) -> None:
    """A published night keeps no snapshot: for reading it after the fact (why a
    flag was raised, its figures again), rebuilds it in `conn`'s transaction
    from the versions and the night's knowledge cutoff. The caller rolls back."""
    from wageguard.warehouse.night import has_snapshot, night_view

    if not has_snapshot(conn, run_date) and conn.execute(text(
            "SELECT 1 FROM night WHERE run_date = :d"), {"d": run_date}).first():
        params = load_params()
        _materialise(conn, night_view(conn, run_date, params["devreform.max_lookback_days"]),
                     params)


def explain(run_date: dt.date, project_id: str, rule: str) -> dict:
    """Why night D raised a flag, told from the night rebuilt as it was."""
    from wageguard.landing.evidence import explain_flag

    with engine().connect() as conn, conn.begin() as transaction:
        rebuild_published_night(conn, run_date)
        story = explain_flag(conn, run_date, project_id, rule)
        transaction.rollback()
    return story


def evaluate(view_json: BuiltNight) -> dict[str, int]:
    """Night D's rules, once its snapshot is held against the last published
    night's: a night whose sources drifted beyond belief stops here."""
    from wageguard.rules.catalogue import load_rules
    from wageguard.rules.evaluate import evaluate_rules
    from wageguard.validate.night_drift import check_night_drift

    view = NightView.from_json(view_json)
    eng = engine()
    params = load_params()
    counts: dict = {}
    with (holding(eng, NIGHT, view.run_date, view_json["lock"]),
          timed(eng, view.run_date, "rules", counts), eng.begin() as conn):
        check_night_drift(conn, view.run_date, view.bundle_day, params)
        per_rule = evaluate_rules(conn, view.run_date, view.bundle_day, load_rules(), params)
        counts["out"] = sum(per_rule.values())
    return per_rule


def run_night(run_date: dt.date, configs: dict[str, SourceConfig],
              smtp_settings: SmtpSettings | None = None) -> dict:
    """Every stage of the nightly DAG, in this process and in the order the DAG
    runs them (plan.STAGES); `configs` maps housing / credit / devreform to their
    sources. Returns what export published."""
    from wageguard.plan import FEEDS, STAGES, SYSTEM_OF_FEED

    done: dict = {}
    stages = {
        "prepare_warehouse": lambda: prepare_warehouse(),
        "ingest_feed": lambda: [ingest_feed(feed, run_date, configs[SYSTEM_OF_FEED[feed]])
                                for feed in FEEDS],
        "build_night": lambda: build_night(run_date),
        "evaluate_rules": lambda: evaluate(done["build_night"]),
        "ingest_dispositions": lambda: ingest_dispositions(run_date),
        "export": lambda: export(done["build_night"], done["ingest_feed"]),
        "deliver": lambda: deliver(run_date, smtp_settings),
    }
    for stage in STAGES:
        done[stage] = stages[stage]()
    return done["export"]


def published_at(run_date: dt.date) -> str | None:
    """When night D was first published, or None: what the deadline watchdog asks."""
    eng = engine()
    migrate(eng)  # a warehouse never run yet has no night table to ask
    with eng.connect() as conn:
        return conn.execute(text("SELECT first_published_at FROM night WHERE run_date = :d"),
                            {"d": run_date}).scalar()


def inbox_dir() -> Path:
    configured = os.environ.get("WAGEGUARD_INBOX_DIR")
    if configured:
        return Path(configured)
    return var_dir("inbox")


def ingest_dispositions(run_date: dt.date) -> dict:
    """Inspectors' filled-in workbooks dropped since the last run; an exemption
    date is judged against the night being run."""
    from wageguard.rules.disposition_inbox import ingest_inbox

    inbox = inbox_dir()
    inbox.mkdir(parents=True, exist_ok=True)
    report = ingest_inbox(engine(), inbox, today=run_date)
    log.info("disposition inbox %s: %s", inbox, report)
    return dataclasses.asdict(report)


def export(view_json: BuiltNight, ingested: list[Ingested],
           signing_key_pem: str | None = None) -> dict:
    from wageguard.exports.night_outputs import write_night_outputs

    view = NightView.from_json(view_json)
    refuse_future_night(view.run_date)
    eng = engine()
    counts: dict = {}
    with (holding(eng, NIGHT, view.run_date, view_json["lock"]) as lock,
          timed(eng, view.run_date, "export", counts)):
        summary = write_night_outputs(eng, view, ingested, lock, signing_key_pem)
        counts["out"] = summary["flags"]
    with eng.begin() as conn:
        pruned = prune_snapshots(conn)
        retired = apply_retention(conn, view.run_date, retention_days())
    log.info("dropped the night's snapshot (%d rows); past the retention horizon: %s",
             pruned, retired or "nothing")
    if reclaim_space(eng):
        log.info("the warehouse's free space was given back")
    return summary


def deliver(run_date: dt.date, smtp_settings: SmtpSettings | None, resend: bool = False,
            resend_unconfirmed: bool = False) -> dict:
    """E-mails night D's district lists to their inspectors (the roster); without
    SMTP settings the lists stay published and nothing is sent. What went out is
    not sent again unless `resend`, nor what a stopped run may have sent unless
    `resend_unconfirmed`. A failed send, a message possibly sent and a district
    with flags and nobody on the roster raise, after everything is recorded, so
    the task fails and the engineers hear of it."""
    from wageguard.delivery.deliver import deliver_night
    from wageguard.delivery.roster import load_roster
    from wageguard.exports.publish import output_root

    if smtp_settings is None:
        log.warning("no SMTP settings (Airflow connection %s): night %s's lists are "
                    "published but not e-mailed", SMTP_CONNECTION, run_date)
        return {"skipped": f"no connection {SMTP_CONNECTION}"}
    refuse_future_night(run_date)
    eng = engine()
    counts: dict = {}
    with timed(eng, run_date, "deliver", counts):
        result = deliver_night(eng, output_root() / run_date.isoformat(), run_date,
                               load_roster(), smtp_settings, resend=resend,
                               resend_unconfirmed=resend_unconfirmed)
        counts["out"] = len(result.sent)
    result.raise_if_incomplete()
    return result.to_json()
