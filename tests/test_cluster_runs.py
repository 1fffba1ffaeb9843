"""One generated night run three ways publishes the same bytes: in process on
the embedded SQLite warehouse, under a real scheduler with the LocalExecutor on
PostgreSQL, and with the CeleryExecutor and two workers (Redis) on PostgreSQL,
where both workers must have run tasks. Needs PostgreSQL and Redis; fails, with
what to start, without them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PG_URL, _reset_postgres, run_night_in_process
from sqlalchemy import make_url
from wageguard.plan import FEEDS, STAGES

PROJECTS, SEED, DATE = 150, 7, dt.date(2026, 11, 21)
COMPARED = ("flags.csv", "blacklist/entries.csv", "blacklist/entries.jsonl",
            "blacklist/changes.csv", "blacklist/manifest.json")
BROKER_URL = os.environ.get("WAGEGUARD_TEST_BROKER_URL", "redis://127.0.0.1:6379/0")
# Airflow's metadata for the cluster runs: a database of its own beside the warehouse's.
METADATA_URL = make_url(PG_URL).set(
    database=f"{make_url(PG_URL).database}_airflow").render_as_string(hide_password=False)
# What the cluster's processes must not inherit from the test session or the shell.
NOT_INHERITED = ("AIRFLOW", "WAGEGUARD_WAREHOUSE_URL", "WAGEGUARD_OUTPUT_DIR",
                 "WAGEGUARD_INBOX_DIR", "WAGEGUARD_SIGNING_KEY", "WAGEGUARD_HOME")


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory):
    from wageguard.exports.signing import generate_key_pair

    private, _ = generate_key_pair(tmp_path_factory.mktemp("keys"))
    return private


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, signing_key):
    """Every stage in this process, on the embedded default warehouse."""
    from wageguard_dev.demo.sources import running_sources
    from wageguard_dev.demo.world import generate_world

    home = tmp_path_factory.mktemp("embedded")
    world = generate_world(projects=PROJECTS, seed=SEED, run_date=DATE)
    with pytest.MonkeyPatch.context() as env:
        for name in [k for k in os.environ if k.startswith(NOT_INHERITED)]:
            env.delenv(name)
        env.setenv("WAGEGUARD_HOME", str(home))
        env.setenv("WAGEGUARD_SIGNING_KEY_FILE", str(signing_key))
        with running_sources(world, workdir=home / "sources", ports=0,
                             clock=lambda: world.as_of) as src:
            started = time.monotonic()
            run_night_in_process(DATE, src)
            seconds = time.monotonic() - started
    return home / "var" / "output" / DATE.isoformat(), seconds


def _cluster_night(home, signing_key, *options: str) -> dict:
    _reset_postgres(PG_URL)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "wageguard_dev.cli", "cluster-night", "--projects", str(PROJECTS),
         "--seed", str(SEED), "--date", DATE.isoformat(), "--metadata-db", METADATA_URL,
         "--warehouse", PG_URL, "--broker", BROKER_URL, "--timeout", "600", *options],
        cwd=home, env={**_clean_env(), "WAGEGUARD_HOME": str(home),
                       "WAGEGUARD_SIGNING_KEY_FILE": str(signing_key)},
        capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, (
        f"cluster-night {' '.join(options)} failed; it needs PostgreSQL ({PG_URL}) and, for "
        f"Celery, Redis ({BROKER_URL}: start redis-server):\n{done.stdout[-3000:]}\n"
        f"{done.stderr[-6000:]}")
    executor = options[options.index("--executor") + 1]
    summary = home / "var" / "cluster" / executor / f"night-{DATE.isoformat()}.json"
    return {**json.loads(summary.read_text(encoding="utf-8")),
            "command_seconds": time.monotonic() - started, "stdout": done.stdout}


@pytest.fixture(scope="module")
def local_executor(tmp_path_factory, signing_key):
    return _cluster_night(tmp_path_factory.mktemp("local"), signing_key, "--executor", "local")


@pytest.fixture(scope="module")
def celery_two_workers(tmp_path_factory, signing_key):
    return _cluster_night(tmp_path_factory.mktemp("celery"), signing_key,
                          "--executor", "celery", "--workers", "2")


@pytest.mark.e2e
def test_both_celery_workers_run_tasks_of_the_night(celery_two_workers):
    per_worker = celery_two_workers["tasks_per_worker"]
    assert set(per_worker) == {"worker1", "worker2"}, per_worker
    # Each stage once, but ingest_feed once per feed.
    assert sum(per_worker.values()) == len(STAGES) - 1 + len(FEEDS) == 13
    assert all(t["state"] == "success" for t in celery_two_workers["tasks"])
    assert "tasks per worker: worker1" in celery_two_workers["stdout"]


@pytest.mark.e2e
def test_the_same_night_is_byte_identical_on_every_executor(
        embedded, local_executor, celery_two_workers):
    folder, embedded_seconds = embedded
    runs = {"LocalExecutor": local_executor, "CeleryExecutor": celery_two_workers}
    for executor, run in runs.items():
        assert (run["executor"], run["run_date"]) == (executor, DATE.isoformat())
        for name in COMPARED:
            assert (folder / name).read_bytes() == (Path(run["outputs"]) / name).read_bytes(), (
                f"{name} differs on {executor}")
    print(f"\nnight {DATE}, {PROJECTS} projects: in process {embedded_seconds:.0f} s; "
          + "; ".join(f"{executor} run {run['run_seconds']:.0f} s "
                      f"(command {run['command_seconds']:.0f} s)"
                      for executor, run in runs.items()))
