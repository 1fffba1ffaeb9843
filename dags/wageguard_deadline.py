"""wageguard_deadline: at 07:00 Asia/Shanghai, when inspectors start, checks
that wageguard_nightly published night D. If not, its task fails and the
failure alert tells the data engineers, whatever kept the night back (still
running, failed, paused, or never started)."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import CronTriggerTimetable, dag, task
from wageguard.alerts import task_defaults
from wageguard.plan import (
    DEADLINE_CRON,
    DEADLINE_DAG_ID,
    START_DATE,
    TIMEZONE,
    run_date_of,
)


@dag(
    dag_id=DEADLINE_DAG_ID,
    schedule=CronTriggerTimetable(DEADLINE_CRON, timezone=TIMEZONE),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["wageguard", "watchdog"],
    # One quick second look (the night may be in its last seconds), then the alert.
    default_args=task_defaults(retries=1, retry_delay=dt.timedelta(minutes=1),
                               execution_timeout=dt.timedelta(minutes=10)),
    doc_md=__doc__,
)
def wageguard_deadline():
    @task
    def night_published(**context) -> str:
        """Passes with the time night D was first published; fails if it was not
        published by the deadline, whatever kept it back. After one quick second
        look the failure is alerted: open the wageguard_nightly run of night D
        (still running, failed, paused or never started?) and re-run it."""
        from wageguard import pipeline
        from wageguard.alerts import check_published

        run_date = run_date_of(context)
        return check_published(run_date, pipeline.published_at(run_date))

    night_published()


wageguard_deadline()
