"""wageguard_nightly: pull the three departments' data, validate it, merge it
into the warehouse, flag projects for inspectors and publish the night's lists
and blacklist. Wiring only: every task calls wageguard.pipeline.

Run date D is the logical date in Asia/Shanghai; every task is keyed on it and
can be re-run alone."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, CronTriggerTimetable, dag, task
from wageguard.plan import (
    CONNECTION_OF_SYSTEM,
    DAG_ID,
    FEEDS,
    SCHEDULE_CRON,
    SIGNING_CONNECTION,
    SOURCE_POOL,
    START_DATE,
    SYSTEM_OF_FEED,
    TIMEZONE,
    run_date_of,
    task_defaults,
)

OUTPUTS = Asset("wageguard://outputs/nightly")


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
    @task
    def prepare_warehouse() -> int:
        from wageguard import pipeline

        return pipeline.prepare_warehouse()

    @task(max_active_tis_per_dagrun=3, pool=SOURCE_POOL)
    def extract(feed: str, **context) -> dict:
        from airflow.sdk import Connection
        from wageguard import pipeline
        from wageguard.sources.config import from_connection

        conn = Connection.get(CONNECTION_OF_SYSTEM[SYSTEM_OF_FEED[feed]])
        return pipeline.extract(feed, run_date_of(context), from_connection(conn))

    @task
    def validate_and_load(extracted: dict) -> list[dict]:
        from wageguard import pipeline

        return pipeline.validate_and_load(extracted["batch_ids"])

    @task
    def build_night(**context) -> dict:
        from wageguard import pipeline

        return pipeline.build_night(run_date_of(context))

    @task
    def evaluate_rules(view: dict) -> dict:
        from wageguard import pipeline

        return pipeline.evaluate(view)

    @task
    def ingest_dispositions(**context) -> dict:
        from wageguard import pipeline

        return pipeline.ingest_dispositions(run_date_of(context))

    @task(outlets=[OUTPUTS])
    def export(view: dict, extracted: list[dict]) -> dict:
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
        from wageguard import pipeline

        try:  # the key may also come from the environment (exports/signing.py)
            signing_key = Connection.get(SIGNING_CONNECTION).password
        except AirflowNotFoundException:
            signing_key = None
        return pipeline.export(view, list(extracted), signing_key)

    @task
    def deliver(**context) -> dict:
        import logging

        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
        from wageguard import pipeline
        from wageguard.delivery.settings import SMTP_CONNECTION, from_connection

        try:
            conn = Connection.get(SMTP_CONNECTION)
        except AirflowNotFoundException:
            logging.getLogger(__name__).warning(
                "no Airflow connection %s: tonight's lists are published but not e-mailed",
                SMTP_CONNECTION)
            return {"skipped": f"no connection {SMTP_CONNECTION}"}
        return pipeline.deliver(run_date_of(context), from_connection(conn))

    ready = prepare_warehouse()
    extracted = extract.expand(feed=list(FEEDS))
    ready >> extracted
    loaded = validate_and_load.expand(extracted=extracted)
    view = build_night()
    loaded >> view
    flags = evaluate_rules(view)
    disposed = ingest_dispositions()
    ready >> disposed
    [flags, disposed] >> export(view, extracted) >> deliver()


wageguard_nightly()
