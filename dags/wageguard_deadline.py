"""wageguard_deadline: at 07:00 Asia/Shanghai, when inspectors start, checks
that wageguard_nightly published night D. If not, its task fails and the
failure alert tells the data engineers, whatever kept the night back (still
running, failed, paused, or never started)."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import CronTriggerTimetable, dag, task
from wageguard.alerts import task_failed
from wageguard.plan import DEADLINE_CRON, DEADLINE_DAG_ID, TIMEZONE, run_date_of


@dag(
    dag_id=DEADLINE_DAG_ID,
    schedule=CronTriggerTimetable(DEADLINE_CRON, timezone=TIMEZONE),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    catchup=False,
    max_active_runs=1,
    tags=["wageguard", "watchdog"],
    default_args={
        "owner": "wageguard",
        # One quick second look (the night may be in its last seconds), then the alert.
        "retries": 1,
        "retry_delay": dt.timedelta(minutes=1),
        "on_failure_callback": task_failed,
    },
    doc_md=__doc__,
)
def wageguard_deadline():
    @task
    def night_published(**context) -> str:
        from wageguard import pipeline
        from wageguard.alerts import check_published

        run_date = run_date_of(context)
        return check_published(run_date, pipeline.published_at(run_date))

    night_published()


wageguard_deadline()
