"""wageguard_nightly: pull the three departments' data, validate it, merge it
into the warehouse, flag projects for inspectors and publish the night's lists
and blacklist. Wiring only: every task calls wageguard.pipeline.

Run date D is the logical date in Asia/Shanghai; every task is keyed on it and
can be re-run alone."""

from __future__ import annotations

import datetime as dt
import inspect

from airflow.sdk import Asset, CronTriggerTimetable, dag, task
from wageguard.alerts import task_defaults
from wageguard.handover import BuiltNight, Ingested
from wageguard.plan import (
    CONNECTION_OF_SYSTEM,
    DAG_ID,
    FEEDS,
    SCHEDULE_CRON,
    SIGNING_CONNECTION,
    SOURCE_POOL,
    STAGES,
    START_DATE,
    SYSTEM_OF_FEED,
    TIMEZONE,
    run_date_of,
)
from wageguard.task_errors import fail_fast

OUTPUTS = Asset("wageguard://outputs/nightly")


def stage(**task_args):
    """@task for a stage of the night: its docstring is its doc in the UI (which
    @task gives only to unmapped tasks), and a failure that a retry cannot cure
    fails it at once (wageguard.task_errors)."""
    return lambda function: task(doc_md=inspect.getdoc(function), **task_args)(
        fail_fast()(function))


@dag(
    dag_id=DAG_ID,
    schedule=CronTriggerTimetable(SCHEDULE_CRON, timezone=TIMEZONE),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["wageguard", "nightly"],
    # A province's night takes minutes (docs/benchmarks.md); an hour is a hang.
    default_args=task_defaults(retries=2, retry_delay=dt.timedelta(minutes=5),
                               execution_timeout=dt.timedelta(hours=1)),
    doc_md=__doc__,
)
def wageguard_nightly():
    @stage()
    def prepare_warehouse() -> int:
        """Before anything is pulled: refuses a validation suite that the validator
        cannot honour exactly (the task fails at once, naming the suite and the
        option), then brings the warehouse's schema up to the newest revision in one
        transaction, so a failed upgrade leaves it as it was."""
        from wageguard import pipeline

        return pipeline.prepare_warehouse()

    @stage(max_active_tis_per_dagrun=3, pool=SOURCE_POOL,
           map_index_template="{{ task.op_kwargs['feed'] }}")
    def ingest_feed(feed: str, **context) -> Ingested:
        """Pulls one feed (a REST table of the housing or credit system, or the
        dev-reform bundle) as its source holds it now, lands it as a new batch of
        night D, then validates the batch against its table's suite and loads it
        from the records as they landed: good records become versions, bad ones go
        to quarantine with their reasons, and the log names the checks they failed
        most. Each task takes a slot of the source pool.

        A source down or overloaded is retried; a refused redirect, credentials
        refused over plain HTTP or a 401/403 fail the task at once: fix the
        connection the error names. A pull that looks broken as a whole (too large
        a share quarantined, a field gone, a table empty) is rejected: nothing of
        it is loaded and the task fails at once with the top reasons. Without a
        complete dev-reform bundle the night goes on and GI1 is not evaluated."""
        from airflow.sdk import Connection
        from wageguard import pipeline
        from wageguard.sources.config import from_connection
        from wageguard.task_errors import log_failed_checks

        conn = Connection.get(CONNECTION_OF_SYSTEM[SYSTEM_OF_FEED[feed]])
        ingested = pipeline.ingest_feed(feed, run_date_of(context), from_connection(conn))
        log_failed_checks(ingested["batch_ids"])
        return ingested

    @stage()
    def build_night(**context) -> BuiltNight:
        """Takes the warehouse for night D (one night at a time) and builds its
        snapshot: the versions it may see by its knowledge cutoff, who is who
        (parties, project links) and the required deposits. A night later than
        today, or one never published that is run after a later night, fails the
        task at once."""
        from wageguard import pipeline

        return pipeline.build_night(run_date_of(context))

    @stage()
    def evaluate_rules(view: BuiltNight) -> dict[str, int]:
        """Holds night D's snapshot against the last published night's, then
        evaluates the rules and writes the night's flags, counted per rule. Sources
        that drifted beyond the thresholds stop the night here and fail the task at
        once; nothing is published until the drift is explained or accepted."""
        from wageguard import pipeline

        return pipeline.evaluate(view)

    @stage()
    def ingest_dispositions(**context) -> dict:
        """Records the dispositions (处置) in the workbooks inspectors filled in and
        dropped into the inbox since the last run, oldest first, each workbook whole
        or not at all; an exemption date is judged against night D. A refused
        workbook moves to rejected/ with an errors file saying what to correct."""
        from wageguard import pipeline

        return pipeline.ingest_dispositions(run_date_of(context))

    @stage(outlets=[OUTPUTS])
    def export(view: BuiltNight, ingested: list[Ingested]) -> dict:
        """Writes and publishes night D's outputs, swapped in whole: the flags,
        the district workbooks, the signed blacklist, the board, the Data Docs
        and run_report.json; then drops earlier nights' snapshots and what is past
        the retention horizon. Publishing ends the night's hold on the warehouse."""
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
        from wageguard import pipeline

        try:  # the key may also come from the environment (exports/signing.py)
            signing_key = Connection.get(SIGNING_CONNECTION).password
        except AirflowNotFoundException:
            signing_key = None
        return pipeline.export(view, list(ingested), signing_key)

    @stage()
    def deliver(**context) -> dict:
        """E-mails night D's district lists to the inspectors on the roster through
        the wageguard_smtp connection (without it the lists are published but not
        e-mailed). What went out is never sent twice; a failed send, or a district
        with flags and nobody on the roster, fails the task once all is recorded."""
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
        from wageguard import pipeline
        from wageguard.delivery.settings import SMTP_CONNECTION, from_connection

        try:
            settings = from_connection(Connection.get(SMTP_CONNECTION))
        except AirflowNotFoundException:
            settings = None
        return pipeline.deliver(run_date_of(context), settings)

    ingested = ingest_feed.expand(feed=list(FEEDS))
    view = build_night()
    night = {
        "prepare_warehouse": prepare_warehouse(),
        "ingest_feed": ingested,
        "build_night": view,
        "evaluate_rules": evaluate_rules(view),
        "ingest_dispositions": ingest_dispositions(),
        "export": export(view, ingested),
        "deliver": deliver(),
    }
    for step, waits_for in STAGES.items():
        for before in waits_for:
            night[before] >> night[step]


wageguard_nightly()
