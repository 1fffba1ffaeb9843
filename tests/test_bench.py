"""The benchmark machinery on a tiny province: both nights run under Airflow,
the straightforward way beside them, and figures that add up; the time axis,
nights in a row on one warehouse, from given figures and for three real nights.
Speed is the benchmark's business, not the test's: nothing here is timed against
a limit."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json

import pytest
from conftest import PG_URL
from sqlalchemy import make_url
from wageguard_dev.bench.night import Night
from wageguard_dev.bench.options import add_arguments
from wageguard_dev.bench.report import (
    MB,
    AxisNight,
    Target,
    TimeAxis,
    axis_line,
    axis_summary,
    axis_targets,
    stage_line,
)
from wageguard_dev.bench.warehouse import (
    BenchWarehouseError,
    fresh_warehouse,
    table_bytes,
    warehouse_bytes,
)
from wageguard_dev.demo.cases import record_key
from wageguard_dev.demo.night_after import changed_records, the_night_after
from wageguard_dev.demo.world import generate_world

TABLES = ("projects", "wage_accounts", "wage_deposits", "realname_monthly", "enterprises",
          "list_entries", "investment_projects", "fund_disbursements")


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def _bench(workdir, name: str, *argv: str) -> dict:
    from wageguard_dev.bench.run import run

    figures = workdir / f"{name}.json"
    assert run(_args(*argv, "--workdir", str(workdir), "--json", str(figures))) == 0
    return json.loads(figures.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, airflow_env):
    """One for the module's runs, so that Airflow's metadata database is made once."""
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def bench(workdir):
    return _bench(workdir, "bench", "--projects", "60")


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
        assert all(c["pulled"] == c["loaded"] + c["quarantined"] + c["superseded"] + c["unchanged"]
                   for c in counts.values())
        assert night["peak_mb"] > 0 and all(s["peak_mb"] <= night["peak_mb"]
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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_warehouse_is_measured_whole_and_by_table(backend, tmp_path):
    # A database of the benchmark's own beside the tests', never the tests' own.
    bench_url = make_url(PG_URL).set(database=f"{make_url(PG_URL).database}_bench")
    url = fresh_warehouse(backend, tmp_path, "sizes",
                          bench_url.render_as_string(hide_password=False))
    tables = table_bytes(url)
    assert {"load_batch", "stage_run"} <= tables.keys()
    assert sum(tables.values()) <= warehouse_bytes(url)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_straightforward_way_loads_into_either_warehouse(backend, tmp_path):
    """What it is measured against runs on both backends, the hash column
    (BYTEA) included."""
    import os

    from wageguard_dev.bench.run import run_baseline

    bench_url = make_url(PG_URL).set(database=f"{make_url(PG_URL).database}_bench")
    url = fresh_warehouse(backend, tmp_path, "baseline",
                          bench_url.render_as_string(hide_password=False))
    world = generate_world(projects=60, seed=3)
    stages = {s["name"]: s for s in run_baseline(world, url, tmp_path, dict(os.environ))["stages"]}
    assert stages["load"]["rows"] > 0
    assert table_bytes(url)["project_version"] > 0


@pytest.mark.parametrize(("target", "verdict"), [
    (Target("t", 12.0, 15, " s"), "[PASS] t: 12.00 s (3.00 s under the 15 s, 20%)"),
    (Target("t", 20.0, 15, " s"), "[MISS] t: 20.00 s (5.00 s over the 15 s, 33%)"),
    (Target("t", 1.5, 2, "×", at_most=False), "[MISS] t: 1.50× (0.50× short the 2×, 25%)"),
    (Target("t", None, 2, "×", where=" (x)"), "[----] t: not measured (x)"),
])
def test_a_target_says_pass_or_miss_and_by_how_much(target, verdict):
    assert target.line().strip() == verdict


def test_a_stage_line_gives_a_rate_only_for_time_it_printed():
    assert stage_line("load:projects", 0.5, 25_000, 380.0).split() == [
        "load:projects", "0.50", "25,000", "50,000", "380"]
    # Rows counted but not read again take no measurable time: no rate, and no
    # figure running into the rows' column.
    assert stage_line("validate:realname_monthly", 0.001, 26_456, None).split() == [
        "validate:realname_monthly", "0.00", "26,456"]


def test_the_nights_after_follow_one_another_a_day_at_a_time():
    world = generate_world(projects=400, seed=3)
    nights = [world]
    for _ in range(3):
        nights.append(the_night_after(nights[-1], 0.01))
    for before, after in itertools.pairwise(nights):
        assert after.run_date == before.run_date + dt.timedelta(days=1)
        changed = changed_records(before, after)
        served = {table: after.rows(table)[len(before.rows(table)):]
                  for table in ("projects", "wage_accounts")}
        assert all(served.values()) and all(r in changed for rs in served.values() for r in rs)
        # Each night's changes are made on its own day, after the night before looked.
        assert all(r["updated_at"].startswith(f"{after.run_date}T")
                   for rs in served.values() for r in rs)
        assert any("实际拨付金额" in r for r in changed)  # the dev-reform snapshot too
    assert changed_records(nights[1], nights[2]) != changed_records(nights[2], nights[3])


def test_a_night_after_with_nothing_changed_serves_the_same_records_a_day_later():
    world = generate_world(projects=200, seed=3)
    after = the_night_after(the_night_after(world, 0), 0)
    assert after.run_date == world.run_date + dt.timedelta(days=2)
    assert after.as_of == world.as_of + dt.timedelta(days=2)
    assert all(after.rows(t) == world.rows(t) for t in TABLES)
    assert changed_records(world, the_night_after(world, 0)) == []


def _night(day: int, seconds: float) -> Night:
    return Night(run_date=dt.date(2026, 11, day), window=seconds, stages=[], peak_mb=300.0,
                 counts={"projects": {"pulled": 1000, "loaded": 900}})


def _axis(changed: float, sizes_mb: list[float], seconds: list[float],
          changed_mb: float = 0.0) -> TimeAxis:
    axis = TimeAxis(backend="sqlite", projects=20_000, changed=changed, start_bytes=MB)
    for i, (size, took) in enumerate(zip(sizes_mb, seconds, strict=True)):
        axis.nights.append(AxisNight(
            night=_night(21 + i, took), bytes=round(size * MB),
            changed_bytes=round(changed_mb * MB) if i else 0,
            published_bytes=(5 if i == 0 else 2) * MB,
            tables={"payload": round(size * MB / 2), "night_party": MB} if i in (0, 2) else None))
    return axis


def test_the_time_axis_prints_each_night_and_projects_a_year():
    axis = _axis(0, [11, 12, 13.5], [20.0, 10.0, 12.0])
    assert axis_line(axis, 0).split() == [
        "1", "2026-11-21", "20.00", "1,000", "900", "300", "11.00", "+10.000", "5.00"]
    assert axis_line(axis, 2).split() == [
        "3", "2026-11-23", "12.00", "1,000", "900", "300", "13.50", "+1.500", "0.000", "2.00"]
    # 11 MB after the first night, then 364 nights at the mean growth of the later ones.
    assert [line.strip() for line in axis_summary(axis)[1:]] == [
        ("growth of an unchanged night (nights 2–3): mean +1.250 MB, least +1.000 MB, "
         "most +1.500 MB"),
        "seconds, night 3 ÷ night 2: 12.00 s ÷ 10.00 s = 1.20×",
        ("the least-squares line through nights 2–3: +2.000 s a night, night 3 ÷ night 2 on "
         "it 1.20×"),
        ("a year (365 nights) at the mean growth: 0.46 GB (11.00 MB after night 1 + "
         "364 × +1.250 MB)"),
        "where it grew, a night after the first: payload +0.625 MB, night_party +0.000 MB",
        # The first night publishes everything; later ones add what changed.
        ("published files, beside the warehouse: 5.00 MB the first night, 2.00 MB a night "
         "after it, 0.72 GB a year"),
    ]


def test_the_seconds_trend_is_the_line_through_the_nights_after_the_first():
    # Night 5 alone is 1.5× night 2; the line through nights 2–5 grows 0.7 s a night.
    axis = _axis(0, [1, 1, 1, 1, 1], [30.0, 10.0, 14.0, 6.0, 15.0])
    assert axis.slowdown() == 1.5
    slope, ratio = axis.seconds_trend()
    assert (round(slope, 3), round(ratio, 3)) == (0.7, round(12.3 / 10.2, 3))


def test_the_time_axis_targets_say_pass_or_miss_and_by_how_much():
    unchanged = _axis(0, [150, 150.5, 151.4], [24.0, 10.0, 10.5])
    changed = _axis(0.01, [150, 156, 162], [24.0, 10.0, 12.0], changed_mb=1.5)
    assert "4.00× the 1.500 MB a night of changed payloads" in "\n".join(axis_summary(changed))
    assert [t.line().strip() for t in axis_targets([unchanged, changed])] == [
        ("[PASS] growth of an unchanged night, mean: 0.70 MB (0.30 MB under the 1 MB, 30%) "
         "(20,000 projects, sqlite, nights 2–3)"),
        ("[PASS] seconds of night 3 ÷ night 2's, set at night 30: 1.05× (0.05× under the "
         "1.1×, 5%) (20,000 projects, sqlite)"),
        ("[MISS] growth of a night with 1% changed ÷ its changed payloads: 4.00× (1.00× over "
         "the 3×, 33%) (20,000 projects, sqlite, nights 2–3)"),
        ("[MISS] seconds of night 3 ÷ night 2's, set at night 30: 1.20× (0.10× over the 1.1×, "
         "9%) (20,000 projects, sqlite)"),
    ]


@pytest.mark.parametrize("argv", [["--nights", "1"], ["--changed", "1.5"], ["--changed", "-0.1"]])
def test_the_time_axis_options_refuse_what_cannot_be_measured(argv, capsys):
    with pytest.raises(SystemExit):
        _args(*argv)
    assert "argument --" in capsys.readouterr().err


def test_nights_that_would_end_after_today_are_refused_before_any_work(tmp_path):
    from wageguard_dev.bench.run import run

    today = dt.date.today()
    with pytest.raises(SystemExit, match=r"Pass --date \d{4}-\d\d-\d\d or earlier"):
        run(_args("--nights", "30", "--date", (today - dt.timedelta(days=5)).isoformat(),
                  "--workdir", str(tmp_path)))
    assert not any(tmp_path.iterdir()), "refused before a world, a warehouse or Airflow"


def test_without_nights_the_benchmark_is_the_single_night_one():
    assert _args().nights is None and _args("--nights", "30", "--changed", "0").nights == 30


@pytest.mark.e2e
def test_three_real_nights_on_one_warehouse(workdir):
    figures = _bench(workdir, "nights", "--projects", "1", "--nights", "3", "--changed", "0.01")
    (axis,) = figures["results"]
    nights = axis["nights"]
    assert [n["night"]["run_date"] for n in nights] == ["2026-11-21", "2026-11-22", "2026-11-23"]
    assert axis["start_bytes"] < nights[0]["bytes"]
    assert all(n["night"]["window"] > 0 and n["published_bytes"] > 0 for n in nights)
    assert nights[0]["changed_bytes"] == 0
    assert all(n["changed_bytes"] > 0 for n in nights[1:])
    # The later nights pull what changed since the night before, not the whole province.
    pulled = [sum(c["pulled"] for c in n["night"]["counts"].values()) for n in nights]
    assert pulled[0] > pulled[1] and pulled[0] > pulled[2]
    assert [bool(n["tables"]) for n in nights] == [True, False, True]
    assert [t["text"] for t in figures["targets"]] == [
        "growth of a night with 1% changed ÷ its changed payloads",
        "seconds of night 3 ÷ night 2's, set at night 30"]
    # Each night's sources go with it: of the folders, only the published outputs stay.
    assert [p.name for p in (workdir / "sqlite-1-nights").iterdir() if p.is_dir()] == ["output"]
