"""The benchmark machinery on a tiny province: both nights run under Airflow,
the straightforward way beside them, and figures that add up. Speed is the
benchmark's business, not the test's: nothing here is timed against a limit."""

from __future__ import annotations

import argparse
import json

import pytest
from wageguard.bench.options import add_arguments
from wageguard.bench.report import Target
from wageguard.bench.warehouse import BenchWarehouseError, fresh_warehouse
from wageguard.demo.cases import record_key
from wageguard.demo.night_after import the_night_after
from wageguard.demo.world import generate_world

TABLES = ("projects", "wage_accounts", "wage_deposits", "realname_monthly", "enterprises",
          "list_entries", "investment_projects", "fund_disbursements")


@pytest.fixture(scope="module")
def bench(tmp_path_factory, airflow_env):
    from wageguard.bench.run import run

    workdir = tmp_path_factory.mktemp("bench")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--projects", "60", "--workdir", str(workdir),
                              "--json", str(workdir / "bench.json")])
    assert run(args) == 0
    return json.loads((workdir / "bench.json").read_text(encoding="utf-8"))


@pytest.mark.e2e
def test_every_stage_of_both_nights_is_measured_and_adds_up(bench):
    (result,) = bench["results"]
    for night in (result["first"], result["incremental"]):
        names = {s["name"] for s in night["stages"]}
        assert {f"validate:{t}" for t in TABLES} | {f"load:{t}" for t in TABLES} <= names
        assert {"extract:devreform", "extract:projects", "merge", "rules", "export",
                "docs"} <= names
        stages = {s["name"]: s for s in night["stages"]}
        assert sum(s["seconds"] for s in night["stages"] if s["name"] != "docs") <= (
            night["window"])
        # The Data Docs are rendered alongside the export and done before it ends.
        docs, export = stages["docs"], stages["export"]
        assert export["started"] <= docs["started"]
        assert docs["started"] + docs["seconds"] <= export["started"] + export["seconds"]
        counts = night["counts"]
        validated = {s["name"].split(":")[1]: s["rows"] for s in night["stages"]
                     if s["name"].startswith("validate:")}
        loaded = {s["name"].split(":")[1]: s["rows"] for s in night["stages"]
                  if s["name"].startswith("load:")}
        assert validated == {t: c["pulled"] for t, c in counts.items()}
        assert loaded == {t: c["loaded"] for t, c in counts.items()}
        assert all(c["pulled"] == c["loaded"] + c["quarantined"] + c["superseded"]
                   for c in counts.values())
        assert 0 < night["peak_mb"] and all(s["peak_mb"] <= night["peak_mb"]
                                             for s in night["stages"])
    first, incremental = result["first"]["counts"], result["incremental"]["counts"]
    assert incremental["projects"]["pulled"] < first["projects"]["pulled"]
    assert incremental["fund_disbursements"]["pulled"] == first["fund_disbursements"]["pulled"]


@pytest.mark.e2e
def test_the_baseline_ceiling_and_targets_are_reported(bench):
    (result,) = bench["results"]
    assert [s["name"] for s in result["baseline"]["stages"]] == [
        "pull", "gx_import", "gx", "load", "rules"]
    pulled = sum(c["pulled"] for c in result["first"]["counts"].values())
    assert result["baseline"]["stages"][0]["rows"] == pulled  # the same pulls, the same world
    rows, seconds = result["ceiling"]
    loaded = sum(c["loaded"] for c in result["first"]["counts"].values())
    assert rows == loaded and seconds > 0
    texts = [t["text"] for t in bench["targets"]]
    assert len(texts) == 8
    assert next(t for t in bench["targets"] if "PostgreSQL" in t["text"])["measured"] is None


def test_the_night_after_changes_the_share_asked_for_and_nothing_else():
    world = generate_world(projects=400, seed=3)
    after = the_night_after(world, 0.01)
    assert after.run_date == world.run_date.replace(day=22)
    assert after.realname_monthly == world.realname_monthly
    for table in ("projects", "wage_accounts", "enterprises"):
        before, now = world.rows(table), after.rows(table)
        assert now[:len(before)] == before
        new = now[len(before):]
        keys = {record_key(table, r) for r in before}
        assert len(new) == pytest.approx(0.01 * len(keys), abs=2) and new
        assert all(r["updated_at"].startswith("2026-11-22T") for r in new)
    changed = sum(a != b for a, b in zip(world.fund_disbursements, after.fund_disbursements,
                                         strict=True))
    assert changed == round(0.01 * len(world.fund_disbursements))
    assert the_night_after(world, 0.01) == after


def test_a_database_not_named_for_the_benchmark_is_never_emptied(tmp_path):
    with pytest.raises(BenchWarehouseError, match="does not look like a benchmark database"):
        fresh_warehouse("postgresql", tmp_path, "warehouse",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/wageguard")


@pytest.mark.parametrize(("target", "verdict"), [
    (Target("t", 12.0, 15, " s"), "[PASS] t: 12.00 s (3.00 s under the 15 s, 20%)"),
    (Target("t", 20.0, 15, " s"), "[MISS] t: 20.00 s (5.00 s over the 15 s, 33%)"),
    (Target("t", 1.5, 2, "×", at_most=False), "[MISS] t: 1.50× (0.50× short the 2×, 25%)"),
    (Target("t", None, 2, "×", where=" (x)"), "[----] t: not measured (x)"),
])
def test_a_target_says_pass_or_miss_and_by_how_much(target, verdict):
    assert target.line().strip() == verdict
