"""One night of a generated province under a real Airflow cluster on this
machine, over a PostgreSQL metadata database: the api-server (task processes
reach Airflow only through its execution API), the scheduler, the
dag-processor and, with the CeleryExecutor, N Celery workers fed through Redis
or RabbitMQ. No task defers, so no triggerer is needed.

It shows that a night comes out the same whatever runs its tasks, and how long
it takes when they spread over workers. The metadata database belongs to this
command: it is dropped and made again at every start, so each night runs alone
and no earlier run can hold it up (the DAG allows one active run)."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from wageguard.plan import DAG_ID, FEEDS, TIMEZONE

EXECUTORS = {"celery": "CeleryExecutor", "local": "LocalExecutor"}
DEFAULT_METADATA_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/wageguard_cluster"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
STOP_GRACE_SECONDS = 20
POLL_SECONDS = 2
FAILED_STATES = {"failed", "up_for_retry", "upstream_failed"}


class ClusterFailed(RuntimeError):
    """What went wrong, with the logs that say why and what to do."""


@dataclass(frozen=True)
class Cluster:
    executor: str = "celery"  # a key of EXECUTORS
    workers: int = 2  # Celery workers; the LocalExecutor runs tasks under the scheduler
    concurrency: int = 2  # task slots per Celery worker
    metadata_url: str = DEFAULT_METADATA_URL
    broker_url: str = DEFAULT_BROKER_URL


@dataclass(frozen=True)
class TaskRun:
    label: str  # ingest_feed[projects], build_night, ...
    state: str
    worker: str  # the Celery worker that ran it, or "scheduler" (LocalExecutor)
    seconds: float | None


@dataclass(frozen=True)
class NightOnCluster:
    run_id: str
    run_seconds: float  # the DAG run's own start to end, as the scheduler recorded it
    total_seconds: float  # from this command's start, with the cluster's start-up
    tasks: list[TaskRun]

    def tasks_per_worker(self) -> dict[str, int]:
        return dict(Counter(t.worker for t in self.tasks))


def logical_date(run_date: dt.date) -> dt.datetime:
    """The logical date whose day in Asia/Shanghai is D (plan.run_date_of):
    midnight there, as `airflow dags test wageguard_nightly D` takes it."""
    return dt.datetime.combine(run_date, dt.time(0), ZoneInfo(TIMEZONE))


def task_label(task_id: str, map_index: int) -> str:
    # The mapped task expands over FEEDS in its order.
    return f"{task_id}[{FEEDS[map_index]}]" if map_index >= 0 else task_id


def cluster_env(env: dict[str, str], cluster: Cluster, *, airflow_home: Path, api_port: int,
                queue: str) -> dict[str, str]:
    """Airflow's settings for the cluster, added to the repository's environment
    (base_env) by AIRFLOW__* variables, so no airflow.cfg needs editing."""
    return {
        **env,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__EXECUTOR": EXECUTORS[cluster.executor],
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": cluster.metadata_url,
        # Airflow derives its async URL with asyncpg, which is not installed;
        # psycopg 3 serves both.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": cluster.metadata_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        # The scheduler signs each task's token and the api-server checks it.
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        # Only the triggered night runs: unpaused, the DAG would otherwise also
        # start the latest scheduled night, which would publish a later night first.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CELERY__BROKER_URL": cluster.broker_url,
        # A queue of this run's own, so workers of another run on the same broker
        # never take its tasks.
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        # The result records the worker's name: which worker ran which task.
        "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": json.dumps({"result_extended": True}),
    }


def recreate_database(url: str) -> None:
    """Drops the PostgreSQL database of `url` (closing what is still connected
    to it, e.g. a process of an interrupted run) and creates it empty."""
    from sqlalchemy import create_engine, make_url, text

    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as exc:
        raise ClusterFailed(
            f"could not make Airflow's metadata database at "
            f"{target.render_as_string(hide_password=True)} ({type(exc).__name__}: {exc}): "
            "start PostgreSQL (scripts/prepare-test-machine does) or give --metadata-db") from exc
    finally:
        engine.dispose()


def check_broker(url: str) -> None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        raise ClusterFailed(
            f"the Celery broker does not answer at {shown_broker(url)} ({type(exc).__name__}): "
            "start Redis (redis-server) or RabbitMQ, or give --broker") from exc


def forget_queue(url: str, queue: str) -> bool:
    """Deletes the run's own queue and exchange (Celery names both after the
    queue) from the broker, which would otherwise keep them for good; whether
    it could."""
    from kombu import Connection, Exchange, Queue
    from kombu.exceptions import KombuError

    with Connection(url, connect_timeout=5) as conn:
        try:
            exchange = Exchange(queue)(conn.default_channel)
            bound = Queue(queue, exchange, routing_key=queue)(conn.default_channel)
            bound.declare()  # the delete below needs the binding known on this channel
            bound.delete()
            exchange.delete()
        except (*conn.connection_errors, *conn.channel_errors, KombuError):
            return False
    return True


def shown_broker(url: str) -> str:
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    if not path.is_file():
        return f"({path} was not written)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


class Services:
    """The cluster's Airflow processes, each writing its own log; stopped
    together with every process they started."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen] = {}

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, args: list[str]) -> None:
        with self.log(name).open("w", encoding="utf-8") as out:
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args], env=self.env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)

    def check_alive(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise ClusterFailed(
                    f"the {name} stopped (exit {process.returncode}); the end of "
                    f"{self.log(name)}:\n{tail(self.log(name))}")

    def stop(self) -> None:
        """SIGTERM lets each one shut down in order (a Celery worker finishes its
        task); whatever is left after the grace period is killed."""
        import psutil

        family = []
        for process in self.running.values():
            try:
                family += psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                continue
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.running.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        _, left = psutil.wait_procs(family, timeout=1)
        for child in left:
            child.kill()


@contextmanager
def running_cluster(env: dict[str, str], cluster: Cluster, log_dir: Path, *, api_port: int,
                    queue: str, say: Callable[[str], None]) -> Iterator[Services]:
    services = Services(env, log_dir)
    try:
        # Logs are files under the shared AIRFLOW_HOME, so no process needs to
        # serve them (and two workers would both want port 8793).
        services.start("api-server", ["api-server", "--host", "127.0.0.1", "--port",
                                      str(api_port), "--workers", "1"])
        services.start("scheduler", ["scheduler", "--skip-serve-logs"])
        services.start("dag-processor", ["dag-processor"])
        if cluster.executor == "celery":
            for name in worker_names(cluster, queue):
                services.start(short_worker(name), [
                    "celery", "worker", "--celery-hostname", name, "--concurrency",
                    str(cluster.concurrency), "--queues", queue, "--skip-serve-logs"])
        say(f"      started {', '.join(services.running)} (logs: {log_dir})")
        yield services
    finally:
        services.stop()
        say(f"      stopped {', '.join(services.running)}")


def worker_names(cluster: Cluster, queue: str) -> list[str]:
    return [f"worker{i}-{queue}@{socket.gethostname()}" for i in range(1, cluster.workers + 1)]


def short_worker(name: str | None) -> str:
    return name.split("-", 1)[0] if name else "?"


class Metadata:
    """Reads what the scheduler and the workers record in the metadata database."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine

        self.engine = create_engine(url, pool_pre_ping=True)

    def dag_registered(self) -> bool:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return bool(conn.execute(
                text("SELECT count(*) FROM serialized_dag WHERE dag_id = :d"),
                {"d": DAG_ID}).scalar())

    def run(self, run_id: str) -> dict | None:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            row = conn.execute(text(
                "SELECT state, start_date, end_date FROM dag_run "
                "WHERE dag_id = :d AND run_id = :r"), {"d": DAG_ID, "r": run_id}).mappings().first()
        return dict(row) if row else None

    def tasks(self, run_id: str, executor: str) -> list[TaskRun]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            has_results = executor == "celery" and conn.execute(
                text("SELECT to_regclass('celery_taskmeta') IS NOT NULL")).scalar()
            worker = "m.worker" if has_results else "NULL"
            joined = ("LEFT JOIN celery_taskmeta m ON m.task_id = ti.external_executor_id"
                      if has_results else "")
            rows = conn.execute(text(
                f"SELECT ti.task_id, ti.map_index, ti.state, ti.duration, {worker} AS worker "
                f"FROM task_instance ti {joined} "
                "WHERE ti.dag_id = :d AND ti.run_id = :r ORDER BY ti.start_date NULLS LAST"),
                {"d": DAG_ID, "r": run_id}).mappings().all()
        return [TaskRun(label=task_label(r["task_id"], r["map_index"]),
                        state=r["state"] or "none",
                        worker=short_worker(r["worker"]) if executor == "celery" else "scheduler",
                        seconds=r["duration"]) for r in rows]

    def dispose(self) -> None:
        self.engine.dispose()


def wait_until(ready: Callable[[], bool], services: Services, what: str,
               timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        services.check_alive()
        if time.monotonic() > deadline:
            raise ClusterFailed(f"{what} not ready after {timeout:.0f} s; the logs in "
                                f"{services.log_dir} say why")
        time.sleep(1)


def api_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/version", timeout=2):
            return True
    except OSError:
        return False


def workers_answer(broker_url: str, names: list[str]) -> bool:
    from celery import Celery

    app = Celery(broker=broker_url)
    try:
        replies = app.control.ping(destination=names, timeout=1.0)
    finally:
        app.close()
    return {name for reply in replies for name in reply} >= set(names)


def readable(log_line: str) -> str:
    """A task log line (Airflow writes JSON) as a person reads it, with the
    innermost frames and the exception of an error."""
    try:
        entry = json.loads(log_line)
    except ValueError:
        return log_line
    text = f"{entry.get('timestamp', '')[11:19]} {entry.get('level', '')} {entry.get('event', '')}"
    for error in entry.get("error_detail") or []:
        text += "".join(f"\n    {frame['filename']}:{frame['lineno']} in {frame['name']}"
                        for frame in error.get("frames", [])[-4:])
        text += f"\n  {error.get('exc_type')}: {error.get('exc_value')}"
    return text


def task_log_tail(airflow_home: Path, run_id: str, task: TaskRun) -> str:
    task_id, _, feed = task.label.partition("[")
    folder = airflow_home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"
    if feed:
        folder /= f"map_index={FEEDS.index(feed.rstrip(']'))}"
    attempts = sorted(folder.glob("attempt=*.log"), key=lambda p: p.stat().st_mtime)
    if not attempts:
        return f"(no task log under {folder})"
    last = tail(attempts[-1], lines=15).splitlines()
    return f"{attempts[-1]} ends:\n" + "\n".join(readable(line) for line in last)


def watch_run(metadata: Metadata, services: Services, cluster: Cluster, run_id: str,
              airflow_home: Path, timeout: float, say: Callable[[str], None]) -> list[TaskRun]:
    """Polls the run until it succeeds; a task that fails ends the watch at once,
    even one Airflow would retry in five minutes."""
    started = time.monotonic()
    shown_states: Counter = Counter()
    reported: set[str] = set()
    while True:
        services.check_alive()
        run = metadata.run(run_id) or {"state": "not created"}
        tasks = metadata.tasks(run_id, cluster.executor)
        elapsed = time.monotonic() - started
        states = Counter(t.state for t in tasks)
        if states != shown_states:
            say(f"  {elapsed:5.0f} s  run {run['state']}: "
                + ", ".join(f"{n} {state}" for state, n in sorted(states.items())))
            shown_states = states
        for t in tasks:
            if t.state == "success" and t.label not in reported:
                reported.add(t.label)
                say(f"          {t.label:36} on {t.worker:9} {t.seconds or 0:6.1f} s")
        failed = [t for t in tasks if t.state in FAILED_STATES]
        if failed or run["state"] == "failed":
            logs = "\n\n".join(task_log_tail(airflow_home, run_id, t) for t in failed
                               if t.state != "upstream_failed")
            raise ClusterFailed(
                f"run {run_id} is {run['state']}; failed: "
                f"{', '.join(f'{t.label} ({t.state})' for t in failed) or 'none'}\n{logs}\n"
                f"Fix what the task log says and run the command again; the scheduler's "
                f"log is {services.log('scheduler')}")
        if run["state"] == "success":
            return tasks
        if elapsed > timeout:
            raise ClusterFailed(
                f"run {run_id} not done after {timeout:.0f} s ({run['state']}); the end of "
                f"{services.log('scheduler')}:\n{tail(services.log('scheduler'))}")
        time.sleep(POLL_SECONDS)


def run_night_on_cluster(run_date: dt.date, cluster: Cluster, env: dict[str, str],
                         workdir: Path, *, timeout: float,
                         say: Callable[[str], None] = print) -> NightOnCluster:
    """Runs night D of the DAG under `cluster`; `env` is the repository's Airflow
    environment (base_env) with the source connections. Every process started
    here is stopped before it returns, also on failure or Ctrl-C."""
    from wageguard_dev.airflow_env import airflow, ensure_metadata_db

    started = time.monotonic()
    airflow_home, log_dir = workdir / "airflow", workdir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    queue = f"wageguard{os.getpid()}"
    api_port = free_port()
    env = cluster_env(env, cluster, airflow_home=airflow_home, api_port=api_port, queue=queue)
    setup_log = log_dir / "setup.log"
    setup_log.unlink(missing_ok=True)
    if cluster.executor == "celery":
        check_broker(cluster.broker_url)
    say(f"      a new metadata database (log: {setup_log})")
    recreate_database(cluster.metadata_url)
    try:
        ensure_metadata_db(env, setup_log)
    except subprocess.CalledProcessError as failed:
        raise ClusterFailed(f"{' '.join(failed.cmd[2:])} failed; the end of {setup_log}:\n"
                            f"{tail(setup_log)}") from failed
    metadata = Metadata(cluster.metadata_url)
    run_id = f"cluster-night__{run_date.isoformat()}"
    try:
        with running_cluster(env, cluster, log_dir, api_port=api_port, queue=queue,
                             say=say) as services:
            wait_until(lambda: api_answers(api_port), services, "the api-server", 300)
            if cluster.executor == "celery":
                names = worker_names(cluster, queue)
                wait_until(lambda: workers_answer(cluster.broker_url, names), services,
                           f"{cluster.workers} Celery workers", 300)
            wait_until(metadata.dag_registered, services, f"{DAG_ID} (dag-processor)", 300)
            say(f"      up in {time.monotonic() - started:.0f} s; triggering {run_id} "
                f"(logical date {logical_date(run_date).isoformat()})")
            if airflow(["dags", "trigger", DAG_ID, "--logical-date",
                        logical_date(run_date).isoformat(), "--run-id", run_id],
                       env, setup_log, check=False).returncode != 0:
                raise ClusterFailed(f"airflow dags trigger failed; the end of {setup_log}:\n"
                                    f"{tail(setup_log)}")
            tasks = watch_run(metadata, services, cluster, run_id, airflow_home, timeout, say)
        run = metadata.run(run_id)
    finally:
        metadata.dispose()
        # A broker gone by now must not hide how the run ended.
        if cluster.executor == "celery" and not forget_queue(cluster.broker_url, queue):
            say(f"      the broker did not answer: queue {queue} is left on it")
    assert run is not None, "the run was watched until it succeeded"
    return NightOnCluster(
        run_id=run_id, run_seconds=(run["end_date"] - run["start_date"]).total_seconds(),
        total_seconds=time.monotonic() - started, tasks=tasks)


def night_on_cluster(run_date: dt.date, *, projects: int, seed: int, cluster: Cluster,
                     env: dict[str, str], timeout: float,
                     say: Callable[[str], None] = print) -> NightOnCluster:
    """The command: generates the province, serves it as the three source
    systems, runs night D on the cluster and says where the outputs are. `env`
    is the repository's Airflow environment (base_env) with the signing key and
    warehouse chosen; the summary is also written as JSON beside the logs."""
    from sqlalchemy import make_url
    from wageguard.exports.publish import output_root
    from wageguard.paths import var_dir
    from wageguard.warehouse.engine import warehouse_url

    from wageguard_dev.airflow_env import demo_source_connections
    from wageguard_dev.demo.world import generate_world

    workdir = var_dir("cluster", cluster.executor)
    say(f"[1/3] generating a province of {projects} projects (seed {seed}) for night {run_date}")
    world = generate_world(projects=projects, seed=seed, run_date=run_date)
    with demo_source_connections(world, var_dir("sources")) as (src, connections):
        say(f"      local sources up: housing {src.housing_url}, credit {src.credit_url}, "
            f"dev-reform exchange {src.exchange_dir}")
        env = {**env, **connections}
        say(f"[2/3] an Airflow cluster: {EXECUTORS[cluster.executor]}"
            + (f" with {cluster.workers} workers x {cluster.concurrency} slots, broker "
               f"{shown_broker(cluster.broker_url)}" if cluster.executor == "celery" else "")
            + f"; metadata {make_url(cluster.metadata_url).render_as_string(hide_password=True)}"
            + f"; warehouse {make_url(warehouse_url()).render_as_string(hide_password=True)}")
        night = run_night_on_cluster(run_date, cluster, env, workdir, timeout=timeout, say=say)
    folder = output_root() / run_date.isoformat()
    summary = workdir / f"night-{run_date.isoformat()}.json"
    summary.write_text(json.dumps({
        "executor": EXECUTORS[cluster.executor],
        "workers": cluster.workers if cluster.executor == "celery" else 0,
        "projects": projects, "seed": seed, "run_date": run_date.isoformat(),
        "run_id": night.run_id, "run_seconds": round(night.run_seconds, 1),
        "total_seconds": round(night.total_seconds, 1),
        "tasks_per_worker": night.tasks_per_worker(), "outputs": str(folder),
        "tasks": [t.__dict__ for t in night.tasks],
    }, indent=2), encoding="utf-8")
    say(f"[3/3] night {run_date} done: the run took {night.run_seconds:.0f} s under the "
        f"scheduler ({night.total_seconds:.0f} s with the cluster's start and stop)")
    say("      tasks per worker: " + ", ".join(
        f"{worker} {n}" for worker, n in sorted(night.tasks_per_worker().items())))
    say(f"      Outputs: {folder}")
    say(f"      summary: {summary}")
    return night
