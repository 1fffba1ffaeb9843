"""Every DAG file imports cleanly and follows the house policy; parsing does no work."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def dagbag(airflow_env):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "wageguard_nightly" in dagbag.dags


def test_policy(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert Path(dag.fileloc).stem == dag_id, "a DAG file is named after its dag_id"
        assert dag.tags and "wageguard" in dag.tags
        assert dag.max_active_runs == 1, "nights must not overlap"
        for task in dag.tasks:
            assert task.owner not in (None, "", "airflow"), f"{task.task_id} has no owner"
            assert task.retries >= 1, f"{task.task_id} is never retried"


def test_nightly_schedule_is_shanghai_01(dagbag):
    timetable = dagbag.dags["wageguard_nightly"].timetable
    assert timetable.expression == "0 1 * * *"
    assert str(timetable.timezone) == "Asia/Shanghai"


def test_parsing_imports_nothing_heavy(airflow_env):
    """Parse time must not load pandas, GX, HTTP clients or our pipeline."""
    probe = (
        "import runpy, sys, json;"
        f"runpy.run_path({str(DAGS / 'wageguard_nightly.py')!r});"
        "print(json.dumps(sorted(m for m in ('pandas', 'great_expectations', 'xlsxwriter',"
        " 'wageguard.pipeline', 'wageguard.validate') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=airflow_env, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_failures_alert_and_the_night_has_a_deadline_at_seven(dagbag):
    from wageguard.alerts import deadline_missed, task_failed
    from wageguard.plan import SOURCE_POOL

    dag = dagbag.dags["wageguard_nightly"]
    for task in dag.tasks:
        callbacks = task.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert task_failed in callbacks, f"{task.task_id} fails silently"
    (deadline,) = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
    start = dt.datetime(2026, 11, 22, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert start + deadline.interval == dt.datetime(2026, 11, 22, 7, 0,
                                                    tzinfo=ZoneInfo("Asia/Shanghai"))
    from airflow.sdk import DeadlineReference

    assert type(deadline.reference) is type(DeadlineReference.DAGRUN_LOGICAL_DATE)
    assert deadline.callback.path.endswith(deadline_missed.__name__)
    assert dag.get_task("extract").pool == SOURCE_POOL
