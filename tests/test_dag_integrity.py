"""Every DAG file imports cleanly and follows the house policy; parsing does no
work; a failure that a retry cannot cure fails its task at once."""

import datetime as dt
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

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
            assert task.doc_md and len(task.doc_md) > 80, f"{task.task_id} has no docs in the UI"


def test_mapped_tasks_are_named_by_their_feed(dagbag):
    nightly = dagbag.dags["wageguard_nightly"]
    assert nightly.get_task("ingest_feed").map_index_template == "{{ task.op_kwargs['feed'] }}"



def _everything_before(direct: dict[str, set[str]]) -> dict[str, set[str]]:
    before = {stage: set(waits) for stage, waits in direct.items()}
    changed = True
    while changed:
        changed = False
        for earlier in before.values():
            reach = set().union(*(before[e] for e in earlier)) if earlier else set()
            if not reach <= earlier:
                earlier |= reach
                changed = True
    return before


def test_the_dag_runs_its_stages_in_the_order_the_plan_states(dagbag):
    """plan.STAGES is the one statement of the night's order: the DAG's tasks
    (data edges included) keep to it, and its listing runs every stage after
    those it waits for, as pipeline.run_night walks it."""
    from wageguard.plan import STAGES

    nightly = dagbag.dags["wageguard_nightly"]
    in_dag = {task.task_id: set(task.upstream_task_ids) for task in nightly.tasks}
    stated = {stage: set(waits) for stage, waits in STAGES.items()}
    assert set(in_dag) == set(stated)
    assert _everything_before(in_dag) == _everything_before(stated)
    listed = list(STAGES)
    for stage, waits in STAGES.items():
        assert all(listed.index(w) < listed.index(stage) for w in waits), stage

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
    assert dagbag.dags["wageguard_nightly"].get_task("ingest_feed").pool == SOURCE_POOL
    watchdog = dagbag.dags["wageguard_deadline"].timetable
    assert (watchdog.expression, str(watchdog.timezone)) == ("0 7 * * *", "Asia/Shanghai")


class _Source(BaseHTTPRequestHandler):
    """A source that refuses the credentials, or redirects to another origin."""

    def do_GET(self):
        if self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{self.server.server_port}/x")
        else:
            self.send_response(int(self.path.strip("/").split("/")[0].split("?")[0]))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def source():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Source)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _raised(work) -> BaseException:
    with pytest.raises(Exception) as raised:
        work()
    return raised.value


def _pull(base: str, path: str) -> BaseException:
    """What a pull of the paged API raises, as the ingest_feed task meets it."""
    from wageguard.sources.config import SourceConfig
    from wageguard.sources.paged_api import pull_all, session_for

    session = session_for(SourceConfig(base, secret="t0ken"), "Authorization", "Bearer ")
    return _raised(lambda: pull_all(session, base, path, {}, "housing_projects"))


def _exchange(base: str, path: str) -> BaseException:
    """What a read of the dev-reform exchange over HTTP raises."""
    from wageguard.sources.config import SourceConfig
    from wageguard.sources.devreform import newest_complete_bundle

    config = SourceConfig(f"{base}{path}", login="fgw", secret="pw")
    return _raised(lambda: newest_complete_bundle(config, dt.date(2026, 11, 21), 1))


def _lasting(source) -> dict[str, BaseException]:
    from wageguard.pipeline import refuse_future_night
    from wageguard.sources.config import from_connection
    from wageguard.validate.gx_suites import SuiteError
    from wageguard.validate.night_drift import NightDrift
    from wageguard.validate.split import BatchRejected
    from wageguard.warehouse.night import LateNightError

    return {
        "rejected batch": BatchRejected("housing_projects: 90 of 100 records quarantined",
                                        summary={}),
        "suite": SuiteError("housing_projects: row_condition is not honoured"),
        "redirect": _pull(source, "/moved"),
        "plain http": _raised(lambda: from_connection(SimpleNamespace(
            conn_type="http", host="api.example.gov.cn", port=80, schema="http",
            login=None, password="t0ken", extra="{}"))),
        "401": _pull(source, "/401"),
        "403": _pull(source, "/403"),
        "exchange 401": _exchange(source, "/401"),
        "exchange 403": _exchange(source, "/403"),
        "exchange redirect": _exchange(source, "/moved"),
        "future night": _raised(lambda: refuse_future_night(dt.date.today()
                                                            + dt.timedelta(days=2))),
        "late night": LateNightError("night 2026-11-20 is run after 2026-11-21 was published"),
        "drift": NightDrift("housing_projects rows 50000 → 12"),
    }


def test_a_failure_no_retry_can_cure_fails_the_task_at_once(source, airflow_env):
    from airflow.sdk.exceptions import AirflowFailException
    from wageguard.task_errors import fail_fast

    for name, error in _lasting(source).items():
        @fail_fast()
        def stage(error=error):
            raise error

        with pytest.raises(AirflowFailException) as failed:
            stage()
        assert failed.value.__cause__ is error, name
        assert type(error).__name__ in str(failed.value), name


def test_a_failure_that_may_pass_keeps_its_retries(airflow_env):
    from wageguard.sources.paged_api import SourceError
    from wageguard.task_errors import fail_fast

    for error in (ConnectionError("housing API unreachable"), TimeoutError("stuck"),
                  SourceError("housing_projects: answered 503 (busy) after retries")):
        with pytest.raises(type(error)) as kept, fail_fast():
            raise error
        assert kept.value is error


def test_every_nightly_task_fails_fast(dagbag, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException
    from wageguard import pipeline
    from wageguard.validate.gx_suites import SuiteError

    def refused():
        raise SuiteError("housing_projects: row_condition is not honoured")

    monkeypatch.setattr(pipeline, "prepare_warehouse", refused)
    with pytest.raises(AirflowFailException):
        dagbag.dags["wageguard_nightly"].get_task("prepare_warehouse").python_callable()
    for task in dagbag.dags["wageguard_nightly"].tasks:
        callable_ = getattr(task, "python_callable", None) or task.partial_kwargs[
            "python_callable"]
        assert callable_.__wrapped__, f"{task.task_id} is not a stage()"


def test_the_load_names_the_checks_its_quarantine_failed_most(monkeypatch, tmp_path, caplog):
    from sqlalchemy import text
    from wageguard import pipeline
    from wageguard.task_errors import log_failed_checks
    from wageguard.warehouse.migrate import migrate

    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    migrate(pipeline.engine())
    reasons = {"expect_column_values_to_match_regex(amount)": 5,
               "expect_column_values_to_be_in_set(form)": 3,
               "expect_column_values_to_not_be_null(project_id)": 2,
               "normalise(record): row cut short": 1}
    with pipeline.engine().begin() as conn:
        for batch, quarantined in (("b1", 11), ("b2", 0)):
            conn.execute(text(
                "INSERT INTO load_batch (batch_id, run_date, source_table, source, pulled_at, "
                "pulled, quarantined, status, validation_summary) VALUES "
                "(:b, '2026-11-21', 'wage_deposits', 'x', 't', 100, :q, 'loaded', :v)"),
                {"b": batch, "q": quarantined, "v": json.dumps({"reasons": reasons})})
    caplog.clear()
    log_failed_checks(["b1", "b2"])
    assert caplog.messages == [(
        "wage_deposits: 11 records quarantined; the checks they failed most: "
        "expect_column_values_to_match_regex(amount) (5), "
        "expect_column_values_to_be_in_set(form) (3), "
        "expect_column_values_to_not_be_null(project_id) (2)")]
