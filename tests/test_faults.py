"""Runs killed with SIGKILL in the middle of loading and of merging, then run
again: the outputs are byte-identical to those of a clean run, and nothing is
lost or counted twice."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import source_configs
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from wageguard_dev.demo.sources import running_sources
from wageguard_dev.demo.world import generate_world

COMPARED = ("flags.csv", "resolution.csv", "links.csv", "blacklist/entries.csv",
            "blacklist/changes.csv", "blacklist/entries.jsonl")

# The nightly stages in a process of their own, so it can be killed outright.
RUN_NIGHT = """
import datetime as dt, json, sys
from wageguard.pipeline import run_night
from wageguard.sources.config import SourceConfig
configs = {k: SourceConfig(v[0], secret=v[1]) for k, v in json.loads(sys.argv[2]).items()}
run_night(dt.date.fromisoformat(sys.argv[1]), configs)
"""


@pytest.fixture(scope="module")
def world():
    return generate_world(projects=1500, seed=21)


def _start(home, world, running):
    configs = {k: (c.location, c.secret) for k, c in source_configs(running).items()}
    env = {**os.environ, "WAGEGUARD_WAREHOUSE_URL": f"sqlite:///{home / 'w.db'}",
           "WAGEGUARD_OUTPUT_DIR": str(home / "out"), "WAGEGUARD_INBOX_DIR": str(home / "in")}
    return subprocess.Popen(
        [sys.executable, "-c", RUN_NIGHT, world.run_date.isoformat(), json.dumps(configs)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _run(home, world, running):
    process = _start(home, world, running)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]


def _digests(home, world):
    folder = home / "out" / world.run_date.isoformat()
    names = list(COMPARED) + sorted(
        str(p.relative_to(folder)) for p in (folder / "lists").glob("*.csv"))
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}


def _loaded_batches(home) -> int:
    path = home / "w.db"
    if not path.exists():
        return 0
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT COUNT(*) FROM load_batch WHERE status = 'loaded'")).scalar()
    except OperationalError:  # the schema is still being created
        return 0
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def clean_run(world, tmp_path_factory):
    home = tmp_path_factory.mktemp("clean")
    with running_sources(world, workdir=home / "src", ports=0,
                         clock=lambda: world.as_of) as running:
        _run(home, world, running)
    return _digests(home, world)


@pytest.mark.parametrize(("stage", "loaded_before_kill"), [("load", 3), ("merge", 8)])
def test_a_run_killed_mid_stage_then_rerun_matches_a_clean_run(
        stage, loaded_before_kill, world, clean_run, tmp_path):
    with running_sources(world, workdir=tmp_path / "src", ports=0,
                         clock=lambda: world.as_of) as running:
        process = _start(tmp_path, world, running)
        deadline = time.monotonic() + 300
        while _loaded_batches(tmp_path) < loaded_before_kill:
            assert process.poll() is None, f"the run ended before the {stage} stage"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not (tmp_path / "out" / world.run_date.isoformat()).exists(), \
            "a killed run must not leave a night folder"
        _run(tmp_path, world, running)
    assert _digests(tmp_path, world) == clean_run
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        duplicated = conn.execute(text(
            "SELECT COUNT(*) FROM (SELECT project_id FROM night_project "
            "GROUP BY run_date, project_id HAVING COUNT(*) > 1) d")).scalar()
        report = json.loads((tmp_path / "out" / world.run_date.isoformat() /
                             "run_report.json").read_text(encoding="utf-8"))
    assert duplicated == 0
    for table, c in report["sources"].items():
        assert c["pulled"] == (c["loaded"] + c["quarantined"] + c["superseded"]
                               + c["unchanged"]), table


@pytest.mark.parametrize(("spoil", "says"), [
    (lambda projects: [{**p, "status": "进行中"} for p in projects], "records quarantined"),
    (lambda projects: [], "the source served no records"),
], ids=["all-malformed", "empty"])
def test_a_broken_source_fails_the_run_before_the_warehouse_is_touched(
        spoil, says, tmp_path, monkeypatch):
    import dataclasses

    from conftest import run_night_in_process
    from wageguard.validate import BatchRejected

    small = generate_world(projects=150, seed=4)
    broken = dataclasses.replace(small, projects=spoil(small.projects))
    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("WAGEGUARD_INBOX_DIR", str(tmp_path / "in"))
    with running_sources(broken, workdir=tmp_path / "src", ports=0,
                         clock=lambda: broken.as_of) as running, \
            pytest.raises(BatchRejected, match=says) as refused:
        run_night_in_process(broken.run_date, running)
    assert "Nothing was loaded" in str(refused.value)
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM project_version")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM night")).scalar() == 0
        assert conn.execute(text(
            "SELECT COUNT(*) FROM source_watermark WHERE source_table = 'projects'")).scalar() == 0
    assert not (tmp_path / "out" / broken.run_date.isoformat()).exists()


@pytest.mark.parametrize("share", [0.01, 0.10])
def test_malformed_rows_are_quarantined_and_reconciled(share, tmp_path, monkeypatch):
    import dataclasses

    from conftest import run_night_in_process

    small = generate_world(projects=300, seed=4)
    step = round(1 / share)
    projects = [{**p, "contract_amount": "待定"} if i % step == 0 else p
                for i, p in enumerate(small.projects)]
    spoilt = dataclasses.replace(small, projects=projects)
    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("WAGEGUARD_INBOX_DIR", str(tmp_path / "in"))
    with running_sources(spoilt, workdir=tmp_path / "src", ports=0,
                         clock=lambda: spoilt.as_of) as running:
        run_night_in_process(spoilt.run_date, running)
    report = json.loads((tmp_path / "out" / spoilt.run_date.isoformat() / "run_report.json")
                        .read_text(encoding="utf-8"))
    counts = report["sources"]["projects"]
    assert counts["pulled"] == counts["loaded"] + counts["quarantined"] + counts["superseded"]
    latest = {}
    for p in projects:  # the version that stands is the latest; older ones are superseded
        if p["project_id"] not in latest or p["updated_at"] > latest[p["project_id"]]["updated_at"]:
            latest[p["project_id"]] = p
    # A tombstone voids its record: only its key and updated_at are checked.
    standing_spoilt = sum(p["contract_amount"] == "待定" and not p["deleted"]
                          for p in latest.values())
    assert standing_spoilt >= len(latest) * share * 0.5
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT reasons, payload FROM quarantine WHERE source_table = 'projects'")).all()
    ours = [r for r in rows if json.loads(r.payload).get("contract_amount") == "待定"]
    assert len(ours) == standing_spoilt
    assert all("contract_amount" in r.reasons for r in ours)
