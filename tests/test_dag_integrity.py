"""Every DAG file imports cleanly and follows the house policy; parsing does no work."""

import json
import subprocess
import sys
from pathlib import Path

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
            timeout = task.execution_timeout
            assert timeout and timeout.total_seconds() <= 3600, f"{task.task_id} may hang"


def test_nightly_schedule_is_shanghai_01(dagbag):
    timetable = dagbag.dags["wageguard_nightly"].timetable
    assert timetable.expression == "0 1 * * *"
    assert str(timetable.timezone) == "Asia/Shanghai"


def test_parsing_imports_nothing_heavy(airflow_env):
    """Parse time must not load pandas, GX, HTTP clients or our pipeline."""
    files = sorted(str(path) for path in DAGS.glob("*.py"))
    assert len(files) >= 2
    probe = (
        "import runpy, sys, json;"
        f"[runpy.run_path(f) for f in {files!r}];"
        "print(json.dumps(sorted(m for m in ('pandas', 'great_expectations', 'xlsxwriter',"
        " 'wageguard.pipeline', 'wageguard.validate') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=airflow_env, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_failures_alert_and_a_watchdog_checks_the_night_at_seven(dagbag):
    from wageguard.alerts import task_failed
    from wageguard.plan import SOURCE_POOL

    for dag in dagbag.dags.values():
        for task in dag.tasks:
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert task_failed in callbacks, f"{dag.dag_id}.{task.task_id} fails silently"
    assert dagbag.dags["wageguard_nightly"].get_task("extract").pool == SOURCE_POOL
    watchdog = dagbag.dags["wageguard_deadline"].timetable
    assert (watchdog.expression, str(watchdog.timezone)) == ("0 7 * * *", "Asia/Shanghai")
