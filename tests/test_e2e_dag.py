"""The real DAG under `airflow dags test`, started the way a newcomer starts it
(`make demo`: `wageguard-dev demo`), on a small generated province: the planted cases come out
right, and running the same night again changes no output."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from wageguard.rules.catalogue import load_rules
from wageguard_dev.demo.world import generate_world

PROJECTS, SEED = 400, 7
# Known secrets for this run, so the test can look for them where they must not be.
SECRETS = {"WAGEGUARD_DEMO_TOKEN": "tok-" + "9f3c1e7a5b2d4c6e8a0b",
           "WAGEGUARD_DEMO_API_KEY": "key-" + "4e6a8c0b2d1f3e5a7c9b"}
STABLE = ("flags.csv", "resolution.csv", "links.csv", "blacklist/entries.csv",
          "blacklist/entries.jsonl", "blacklist/changes.csv", "blacklist/manifest.json")


def _demo(home, env):
    return subprocess.run(
        [sys.executable, "-m", "wageguard_dev.cli", "demo", "--projects", str(PROJECTS),
         "--seed", str(SEED)],
        cwd=home, env={**env, **SECRETS, "WAGEGUARD_HOME": str(home)}, capture_output=True,
        text=True,
        timeout=900, check=False,
    )


def _digests(folder):
    lists = sorted(str(p.relative_to(folder)) for p in (folder / "lists").glob("*.csv"))
    files = [*STABLE, *lists]
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in files}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, airflow_env):
    home = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in airflow_env.items() if not k.startswith("AIRFLOW")}
    first = _demo(home, env)
    assert first.returncode == 0, first.stdout + first.stderr + (
        (home / "var" / "demo.log").read_text(encoding="utf-8")[-5000:])
    return home, env, first.stdout


@pytest.mark.e2e
def test_demo_reports_where_the_outputs_are(demo_run):
    home, _, stdout = demo_run
    folder = home / "var" / "output" / "2026-11-21"
    assert f"Outputs: {folder}" in stdout
    for name in ("flags.csv", "run_report.json", "resolution.csv", "links.csv",
                 "blacklist/entries.csv", "blacklist/manifest.json"):
        assert (folder / name).is_file(), name
    assert list((folder / "lists").glob("*.xlsx"))
    board = folder / "dashboard" / "index.html"
    assert board.is_file() and board.as_uri() in stdout


@pytest.mark.e2e
def test_the_blacklist_is_signed_and_verifies_offline(demo_run):
    from wageguard.exports.signing import verify_export

    home, _, stdout = demo_run
    public = home / "var" / "keys" / "public_key.pem"
    assert f"--public-key {public}" in stdout
    assert verify_export(home / "var" / "output" / "2026-11-21" / "blacklist",
                         public.read_bytes()) == []


@pytest.mark.e2e
def test_no_secret_reaches_logs_outputs_or_xcom(demo_run):
    home, _, stdout = demo_run
    private_key = (home / "var" / "keys" / "signing_key.pem").read_text(encoding="ascii")
    needles = [*SECRETS.values(), private_key.splitlines()[1]]
    searched = [p for root in (home / "var" / "output", home / ".airflow")
                for p in root.rglob("*") if p.is_file()]
    searched.append(home / "var" / "demo.log")
    assert len(searched) > 10
    for path in searched:
        content = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in content, f"a secret leaked into {path}"
    for needle in needles:
        assert needle not in stdout


@pytest.mark.e2e
def test_planted_cases_through_the_real_dag(demo_run):
    home, _, _ = demo_run
    world = generate_world(projects=PROJECTS, seed=SEED)
    folder = home / "var" / "output" / world.run_date.isoformat()
    with (folder / "flags.csv").open(encoding="utf-8", newline="") as f:
        flags = {(r["project_id"], r["rule"]): r for r in csv.DictReader(f)}
    evaluated = {r.code for r in load_rules()}
    cases = [c for c in world.planted if c.rule in evaluated]
    assert {c.rule for c in cases} == evaluated
    for case in cases:
        found = flags.get((case.project_id, case.rule))
        assert bool(found) == case.expected, f"{case.rule} {case.project_id}: {case.note}"
        if case.expected:
            assert found["base_severity"] == case.severity, case.note
    report = json.loads((folder / "run_report.json").read_text(encoding="utf-8"))
    assert report["devreform"]["bundle_day"] == "2026-11-20"  # D's own bundle is incomplete
    for table, c in report["sources"].items():
        assert c["pulled"] == (c["loaded"] + c["quarantined"] + c["superseded"]
                               + c["unchanged"]), table


GOLDEN = Path(__file__).parent / "golden" / "demo_night_outputs.sha256"


@pytest.mark.e2e
def test_the_night_publishes_what_the_previous_version_published(demo_run):
    """The data files of the demo night, byte for byte as the version before a
    change published them (tests/golden/, in `sha256sum -c` form): a refactor
    must leave them as they were, and a change that means to alter them says
    so by updating the digests, run from the night's folder with
    `sha256sum <the files listed> > tests/golden/demo_night_outputs.sha256`.
    The workbooks carry the night's wall-clock data cutoff and the manifest
    this machine's signature, so they are held by the re-run test instead."""
    home, _, _ = demo_run
    folder = home / "var" / "output" / "2026-11-21"
    expected = {name: digest for digest, name in (
        line.split("  ", 1) for line in GOLDEN.read_text(encoding="utf-8").splitlines())}
    published = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
                 for name in expected}
    assert published == expected
    listed = {str(p.relative_to(folder)) for p in (folder / "lists").glob("*.csv")}
    assert listed <= set(expected), "every district's list is held to the digests"


@pytest.mark.e2e
def test_running_the_same_night_again_changes_no_output(demo_run):
    home, env, _ = demo_run
    folder = home / "var" / "output" / "2026-11-21"
    before = _digests(folder)
    again = _demo(home, env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _digests(folder) == before
    report = json.loads((folder / "run_report.json").read_text(encoding="utf-8"))
    assert report["rerun"] is True
