"""One night at a time, on both warehouses: runs that overlap, in threads and
in processes of their own, against a real warehouse. A second run waits for
the night in flight or fails saying who runs it; a hold whose run died or
failed is taken over; a night's publish refuses, inside its own transaction,
once a later night was published; two first runs do not race on the schema."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import source_configs
from sqlalchemy import text
from wageguard import pipeline
from wageguard.db.values import as_date
from wageguard.plan import FEEDS, SYSTEM_OF_FEED
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.lock import (
    FAILED,
    NIGHT,
    WAIT_ENV,
    LockBusy,
    LockLost,
    holding,
)
from wageguard.warehouse.migrate import migrate
from wageguard.warehouse.night import LateNightError

D = dt.date(2026, 11, 21)
HOST = socket.gethostname()

# Takes night D's hold in a process of its own, says its token and pid, and
# keeps the hold until told (a line on stdin) or killed.
HOLD = """
import datetime as dt, os, sys
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.lock import NIGHT, holding
with holding(make_engine(sys.argv[1]), NIGHT, dt.date.fromisoformat(sys.argv[2]),
             final=True) as token:
    print(token, os.getpid(), flush=True)
    sys.stdin.readline()
"""


def _holder(url: str, run_date: dt.date) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-c", HOLD, url, run_date.isoformat()],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    token, _ = process.stdout.readline().split()
    return process, token


def _hold_row(engine, run_date: dt.date, purpose: str = NIGHT):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM night_lock WHERE purpose = :p AND run_date = :d"),
                            {"p": purpose, "d": run_date}).mappings().first()


def _stage(engine, run_date: dt.date, token: str | None = None, **options) -> str:
    """One stage of a run that holds night D (a new run without a token)."""
    with holding(engine, NIGHT, run_date, token, **options) as taken:
        return taken


def _plant_hold(engine, run_date: dt.date, *, host: str, pid: int, touched_at: str,
                state: str = "working") -> None:
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO night_lock VALUES (:p, :d, 'planted', :h, :pid, :t, :t, :s)"),
            {"p": NIGHT, "d": run_date, "h": host, "pid": pid, "t": touched_at, "s": state})


def test_a_second_run_waits_for_the_night_in_flight_then_fails_saying_who_runs_it(
        engine, warehouse_url):
    process, _ = _holder(warehouse_url, D)
    try:
        since = _hold_row(engine, D)["since"]
        later = D + dt.timedelta(days=1)
        started = time.monotonic()
        with pytest.raises(LockBusy) as busy, holding(engine, NIGHT, later, wait=2):
            pass
        assert time.monotonic() - started >= 2, "it waits before it fails"
        assert f"night {D} is being run by {HOST}/{process.pid} since {since}" in str(busy.value)
        assert "waited 2 s" in str(busy.value) and "UPDATE night_lock" in str(busy.value)

        got = {}

        def second_run():
            with holding(engine, NIGHT, later, wait=60) as token:
                got["at"], got["token"] = time.monotonic(), token

        waiting = threading.Thread(target=second_run)
        waiting.start()
        time.sleep(1.5)
        assert not got, "the warehouse is still held"
        released_at = time.monotonic()
        process.communicate("\n", timeout=30)
        waiting.join(timeout=60)
        assert got["at"] > released_at, "the second run goes on once the first is done"
        assert _hold_row(engine, D)["state"] == "done"
    finally:
        process.kill()
        process.wait()


def test_a_hold_whose_process_is_gone_is_taken_over_at_once(engine, warehouse_url, caplog):
    process, dead_token = _holder(warehouse_url, D)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _hold_row(engine, D)["state"] == "working", "a killed run leaves its hold"
    assert _stage(engine, D, wait=0) != dead_token
    assert "its process is gone" in caplog.text
    with pytest.raises(LockLost, match=f"night {D}: this run no longer holds it .*build_night"):
        _stage(engine, D, dead_token, wait=0)


def test_a_hold_on_another_machine_is_waited_for_until_it_is_not_heard_from(engine, caplog):
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    _plant_hold(engine, D, host="worker-7", pid=os.getpid() + 1_000_000,
                touched_at=now.isoformat())
    with pytest.raises(LockBusy, match=f"night {D} is being run by worker-7/"):
        _stage(engine, D + dt.timedelta(days=1), wait=0)
    with engine.begin() as conn:
        conn.execute(text("UPDATE night_lock SET touched_at = :t"),
                     {"t": (now - dt.timedelta(hours=3)).isoformat()})
    _stage(engine, D + dt.timedelta(days=1), wait=0)
    assert "not heard from for 180 minutes" in caplog.text
    assert _hold_row(engine, D)["state"] == FAILED


def test_a_failed_stage_lets_any_run_in_and_its_retry_carry_on_if_none_came(engine):
    def failing(token=None):
        with pytest.raises(RuntimeError), holding(engine, NIGHT, D, token, wait=0) as taken:
            raise RuntimeError(taken)

    first = _stage(engine, D, wait=0)
    failing(first)
    assert _hold_row(engine, D)["state"] == FAILED
    _stage(engine, D, first, wait=0)  # the retried task
    failing(first)
    _stage(engine, D + dt.timedelta(days=1), final=True, wait=0)  # another run comes in
    assert _stage(engine, D, wait=0) != first  # and this night's again
    with pytest.raises(LockLost, match="clear build_night and its downstream tasks"):
        _stage(engine, D, first, wait=0)


# A real night's stages, each test on a fresh warehouse of each backend -----------


@pytest.fixture
def warehouse(warehouse_url, tmp_path, monkeypatch, sources):
    """Night D and D+1's pulls loaded, nothing merged yet; the Data Docs are
    rendered in this process, as run_night_in_process renders them."""
    from wageguard.exports.data_docs import MODE_ENV

    monkeypatch.setenv(MODE_ENV, "inline")
    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("WAGEGUARD_INBOX_DIR", str(tmp_path / "inbox"))
    pipeline.prepare_warehouse()
    configs = source_configs(sources)
    ingested = {night: [pipeline.ingest_feed(feed, night, configs[SYSTEM_OF_FEED[feed]])
                        for feed in FEEDS]
                for night in (D, D + dt.timedelta(days=1))}
    return tmp_path / "out", ingested


def _rest_of_the_night(view: dict, ingested: list[dict]) -> dict:
    pipeline.evaluate(view)
    return pipeline.export(view, ingested)


def _digests(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.csv"))}


def _in_thread(target, *args) -> tuple[threading.Thread, dict]:
    outcome = {}

    def run():
        try:
            outcome["result"] = target(*args)
        except Exception as raised:
            outcome["raised"] = raised
        outcome["at"] = time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_two_runs_of_one_night_at_once_one_waits_or_fails_saying_who_runs_it(
        warehouse, monkeypatch, small_world):
    out, ingested = warehouse
    view = pipeline.build_night(D)
    with make_engine(os.environ["WAGEGUARD_WAREHOUSE_URL"]).connect() as conn:
        since = conn.execute(text("SELECT since FROM night_lock")).scalar()

    monkeypatch.setenv(WAIT_ENV, "1")
    thread, refused = _in_thread(pipeline.build_night, D)
    thread.join(timeout=60)
    assert isinstance(refused.get("raised"), LockBusy)
    assert f"night {D} is being run by {HOST}/{os.getpid()} since {since}" in str(
        refused["raised"])

    monkeypatch.setenv(WAIT_ENV, "120")
    thread, second = _in_thread(pipeline.build_night, D)
    time.sleep(1.5)
    assert not second, "the second run waits while the first holds the night"
    _rest_of_the_night(view, ingested[D])
    first = _digests(out / D.isoformat())
    thread.join(timeout=120)
    assert "raised" not in second, second.get("raised")
    with make_engine(os.environ["WAGEGUARD_WAREHOUSE_URL"]).connect() as conn:
        published, merged = conn.execute(text(
            "SELECT first_published_at, since FROM night JOIN night_lock USING (run_date)")).one()
    assert merged > published, "the second run merges once the first has published"
    assert second["result"]["rerun"], "the second run finds the night published"
    _rest_of_the_night(second["result"], ingested[D])
    assert _digests(out / D.isoformat()) == first


def test_a_later_night_waits_for_the_earlier_one_and_takes_it_as_its_previous(warehouse):
    out, ingested = warehouse
    later = D + dt.timedelta(days=1)
    view = pipeline.build_night(D)
    thread, second = _in_thread(
        lambda: _rest_of_the_night(pipeline.build_night(later), ingested[later]))
    time.sleep(1.5)
    assert not second, "night D+1 waits while night D is between merge and publish"
    _rest_of_the_night(view, ingested[D])
    thread.join(timeout=120)
    assert "raised" not in second, second.get("raised")
    report = json.loads((out / later.isoformat() / "run_report.json").read_text("utf-8"))
    assert report["previous_night"] == D.isoformat()


def test_a_night_published_after_a_later_one_is_refused_inside_its_publishing_transaction(
        warehouse, monkeypatch):
    from wageguard.exports import night_outputs

    out, ingested = warehouse
    view = pipeline.build_night(D)
    pipeline.evaluate(view)
    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as broken:
        broken.setattr(night_outputs, "write_dashboard", disk_full)
        with pytest.raises(OSError, match="disk full"):
            pipeline.export(view, ingested[D])
    later = D + dt.timedelta(days=1)
    _rest_of_the_night(pipeline.build_night(later), ingested[later])  # takes the failed hold

    with pytest.raises(LateNightError, match=f"night {D} was never published but the later"):
        pipeline.export(view, ingested[D])  # the retried export: its merge is still D's
    engine = make_engine(os.environ["WAGEGUARD_WAREHOUSE_URL"])
    with engine.connect() as conn:
        assert [as_date(d) for d, in conn.execute(text("SELECT run_date FROM night"))] == [later]
        assert conn.execute(text("SELECT state FROM night_lock WHERE run_date = :d"),
                            {"d": D}).scalar() == FAILED
    assert not (out / D.isoformat()).exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no scratch left"


# The schema ------------------------------------------------------------------------

# Upgrades the warehouse at a moment both processes were given.
MIGRATE = """
import sys, time
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.migrate import migrate
time.sleep(max(float(sys.argv[2]) - time.time(), 0))
print(migrate(make_engine(sys.argv[1])))
"""


def test_two_first_runs_upgrade_a_new_warehouse_one_after_the_other(warehouse_url):
    at = str(time.time() + 3)  # both have imported everything by then
    runs = [subprocess.Popen([sys.executable, "-c", MIGRATE, warehouse_url, at],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    done = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in done]
    engine = make_engine(warehouse_url)
    head = migrate(engine)
    assert [int(out) for out, _ in done] == [head, head]


def test_an_upgrade_waits_for_a_night_in_flight_and_an_up_to_date_warehouse_does_not(
        engine, monkeypatch):
    head = migrate(engine)
    with holding(engine, NIGHT, D, wait=0):
        assert migrate(engine) == head, "nothing to upgrade: no waiting (the 07:00 watchdog)"
        with engine.begin() as conn:  # as if the newest revision had just been deployed
            conn.execute(text("UPDATE alembic_version SET version_num = :v"),
                         {"v": f"{head - 1:04d}"})
        monkeypatch.setenv(WAIT_ENV, "1")
        with pytest.raises(LockBusy, match=f"night {D} is being run by {HOST}/{os.getpid()}.*"
                                           "the warehouse's schema upgrade waited 1 s"):
            migrate(engine)
