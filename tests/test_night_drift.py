"""Night D's snapshot held against the last published night's, on both
backends: a profile that moved beyond belief stops the night with the numbers,
unless an engineer accepted that night's change."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from wageguard.rules.params import load_params
from wageguard.validate.night_drift import NightDrift, accept_drift, check_night_drift

D = dt.date(2026, 11, 21)
BEFORE = D - dt.timedelta(days=1)


def _night(conn, run_date, deposits: int, amount_fen: int, started: bool = True) -> None:
    """A night's snapshot of `deposits` deposits and as many active projects."""
    conn.execute(text(
        "INSERT INTO night (run_date, knowledge_cutoff, params, first_published_at, "
        "last_published_at) VALUES (:d, 'x', '{}', 'x', 'x')"), {"d": run_date})
    for n in range(deposits):
        conn.execute(text(
            "INSERT INTO night_deposit (run_date, deposit_id, payload_hash, project_id, "
            "amount_fen) VALUES (:d, :i, 'h', :p, :a)"),
            {"d": run_date, "i": f"D{n}", "p": f"P{n}", "a": amount_fen})
        conn.execute(text(
            "INSERT INTO night_project (run_date, project_id, payload_hash, contract_amount_fen, "
            "started_on, active) VALUES (:d, :p, 'h', 1250000000, :s, 1)"),
            {"d": run_date, "p": f"P{n}", "s": dt.date(2025, 3, 1) if started else None})


def _checked(engine, run_date):
    with engine.begin() as conn:
        return check_night_drift(conn, run_date, None, load_params())


def test_a_first_night_is_profiled_and_not_judged(engine):
    with engine.begin() as conn:
        _night(conn, BEFORE, 60, 125_000_00)
    report = _checked(engine, BEFORE)
    assert report == {"compared_with": None, "drifted": [], "accepted": None}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT value FROM night_profile WHERE run_date = :d "
                                 "AND source_table = 'wage_deposits' AND metric = 'rows'"),
                            {"d": BEFORE}).scalar()
    assert rows == 60


def test_a_night_like_the_last_passes(engine):
    with engine.begin() as conn:
        _night(conn, BEFORE, 60, 125_000_00)
        _night(conn, D, 66, 124_000_00)
    _checked(engine, BEFORE)
    assert _checked(engine, D)["drifted"] == []


@pytest.mark.parametrize(("deposits", "amount", "started", "found"), [
    (60, 12_50, True, "wage_deposits median:amount_fen 12500000 → 1250"),
    (30, 125_000_00, True, "wage_deposits rows 60 → 30"),
    (60, 125_000_00, False, "projects null_share:started_on 0 → 1"),
], ids=["amounts in 万元", "half the records", "start dates gone"])
def test_a_sudden_change_stops_the_night_with_the_numbers(engine, deposits, amount, started,
                                                          found):
    with engine.begin() as conn:
        _night(conn, BEFORE, 60, 125_000_00)
        _night(conn, D, deposits, amount, started)
    _checked(engine, BEFORE)
    with pytest.raises(NightDrift, match="since night 2026-11-20") as stopped:
        _checked(engine, D)
    assert found in str(stopped.value)
    assert "wageguard accept-drift --date 2026-11-21" in str(stopped.value)
    with engine.begin() as conn:
        accept_drift(conn, D, "a bulk correction at the source", "ops")
    report = _checked(engine, D)
    assert report["accepted"] == "a bulk correction at the source (ops)"
    assert [f"{d['table']}" for d in report["drifted"]]


def test_a_source_sending_wan_yuan_as_yuan_stops_the_night_until_accepted(
        warehouse_url, small_world, tmp_path, monkeypatch):
    """Real nights: the housing system starts sending deposit amounts in 万元 where
    its contract says 元 — every record still passes its checks."""
    import dataclasses
    import json
    import re
    from decimal import Decimal

    from conftest import run_night_in_process
    from wageguard import pipeline
    from wageguard_dev.demo.night_after import the_night_after
    from wageguard_dev.demo.records import stamp
    from wageguard_dev.demo.sources import running_sources

    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("WAGEGUARD_INBOX_DIR", str(tmp_path / "in"))
    after = the_night_after(small_world, 0.0)
    moved = stamp(after.run_date, 9 * 3600)
    latest: dict = {}
    for deposit in after.wage_deposits:
        held = latest.get(deposit["deposit_id"])
        if held is None or deposit["updated_at"] > held["updated_at"]:
            latest[deposit["deposit_id"]] = deposit
    after = dataclasses.replace(after, wage_deposits=after.wage_deposits + [
        {**d, "amount": str(Decimal(d["amount"]) / 10000), "updated_at": moved}
        for d in latest.values() if re.fullmatch(r"\d+\.\d{2}", d["amount"] or "")])
    for world in (small_world, after):
        with running_sources(world, workdir=tmp_path / f"src-{world.run_date}", ports=0,
                             clock=lambda w=world: w.as_of) as running:
            if world is small_world:
                run_night_in_process(world.run_date, running)
                continue
            with pytest.raises(NightDrift, match="wage_deposits median:amount_fen"):
                run_night_in_process(world.run_date, running)
            assert not (tmp_path / "out" / world.run_date.isoformat()).exists()
            with pipeline.engine().begin() as conn:
                accept_drift(conn, world.run_date, "deposits re-keyed at the source", "ops")
            run_night_in_process(world.run_date, running)
    report = json.loads((tmp_path / "out" / after.run_date.isoformat() / "run_report.json")
                        .read_text(encoding="utf-8"))
    assert report["drift"]["accepted"] == "deposits re-keyed at the source (ops)"
    assert report["drift"]["compared_with"] == small_world.run_date.isoformat()
