"""A month of nights on a province whose records change from night to night:
flags keep their identity while the condition holds, resolve, recur as new
occurrences, go overdue and escalate; re-running nights out of order gives
each night exactly the flags it had, and backfilling the whole month again in
reverse order leaves every night's files byte-identical."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json

import pytest
from conftest import night_env, run_night_in_process
from wageguard.exports.flag_list import LEVELS
from wageguard_dev.demo.exchange import write_exchange
from wageguard_dev.demo.sources import running_sources
from wageguard_dev.demo.world import generate_world

TZ = dt.timezone(dt.timedelta(hours=8))
RERUN_ORDER = (20, 5, 27, 12, 0)  # positions in the month, deliberately out of order


# Written anew on every run by design: GX's run times, and the parts of the run
# report about the run rather than the night (what this run pulled, its timings).
VOLATILE_FILES = ("run_report.json",)
VOLATILE_DIRS = ("data_docs",)
VOLATILE_REPORT_KEYS = ("rerun", "stage_seconds")


def _night_files(folder):
    """sha256 of every file the night handed out, and its run report without
    the keys that describe the run rather than the night."""
    digests = {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in VOLATILE_FILES
        and path.relative_to(folder).parts[0] not in VOLATILE_DIRS
    }
    report = json.loads((folder / "run_report.json").read_text(encoding="utf-8"))
    for key in VOLATILE_REPORT_KEYS:
        report.pop(key)
    return digests, report


def _flags(folder):
    with (folder / "flags.csv").open(encoding="utf-8", newline="") as f:
        return {(r["project_id"], r["rule"]): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """Runs every night of the month in order, then five of them again out of
    order, then the whole month backwards; returns the world, the first and
    re-run flags.csv contents, and every night's files after the first pass
    and after the backfill."""
    tmp = tmp_path_factory.mktemp("month")
    world = generate_world(projects=150, seed=5)
    nights = world.lifecycle_nights
    clock = [None]
    patch = night_env(tmp)
    first, again, files_first, files_backfilled = {}, {}, {}, {}
    try:
        with running_sources(world, workdir=tmp / "sources", ports=0,
                             clock=lambda: clock[0]) as sources:
            write_exchange(world, sources.exchange_dir, days=nights)
            for night in nights:
                clock[0] = dt.datetime.combine(night + dt.timedelta(days=1), dt.time(1), TZ)
                run_night_in_process(night, sources)
                first[night] = (tmp / "out" / night.isoformat() / "flags.csv").read_bytes()
                files_first[night] = _night_files(tmp / "out" / night.isoformat())
            for position in RERUN_ORDER:
                night = nights[position]
                clock[0] = dt.datetime.combine(night + dt.timedelta(days=1), dt.time(1), TZ)
                run_night_in_process(night, sources)
                again[night] = (tmp / "out" / night.isoformat() / "flags.csv").read_bytes()
            for night in reversed(nights):
                clock[0] = dt.datetime.combine(night + dt.timedelta(days=1), dt.time(1), TZ)
                run_night_in_process(night, sources)
                files_backfilled[night] = _night_files(tmp / "out" / night.isoformat())
    finally:
        patch.undo()
    return world, tmp / "out", first, again, (files_first, files_backfilled)


def test_rerunning_nights_out_of_order_reproduces_them(month):
    _, _, first, again, _ = month
    assert len(again) == len(RERUN_ORDER)
    for night, content in again.items():
        assert content == first[night], f"night {night} changed when re-run"


def test_backfilling_the_month_in_reverse_order_leaves_every_file_as_it_was(month):
    world, _, _, _, (files_first, files_backfilled) = month
    assert list(files_backfilled) == list(reversed(world.lifecycle_nights))
    for night in world.lifecycle_nights:
        digests, report = files_first[night]
        assert any(name.startswith("lists/") for name in digests)
        assert "blacklist/manifest.json" in digests
        again, report_again = files_backfilled[night]
        changed = sorted(name for name in digests.keys() | again.keys()
                         if digests.get(name) != again.get(name))
        assert not changed, f"night {night}: {changed} changed"
        assert report_again == report, f"night {night}: run_report.json changed"


def test_planted_lifecycles_play_out_night_by_night(month):
    world, out, _, _, _ = month
    assert world.lifecycle
    for night in world.lifecycle_nights:
        flags = _flags(out / night.isoformat())
        for case in world.lifecycle:
            found = flags.get((case.project_id, case.rule))
            want = case.expected[night]
            if want is None:
                assert found is None, f"{night}: {case.rule} {case.project_id} open: {case.note}"
            else:
                assert found, f"{night}: {case.rule} {case.project_id} missing: {case.note}"
                assert found["raised_on"] == want.isoformat(), f"{night}: {case.note}"


def test_overdue_flags_escalate_one_level(month):
    world, out, _, _, _ = month
    last = _flags(out / world.lifecycle_nights[-1].isoformat())
    overdue = [f for f in last.values() if f["overdue"] == "true"]
    assert overdue, "a month of nights must leave some flags overdue"
    for flag in last.values():
        days = int(flag["days_open"])
        assert (flag["overdue"] == "true") == (days > 15)
        base = LEVELS.index(flag["base_severity"])
        expected = LEVELS[min(base + 1, 2)] if days > 15 else flag["base_severity"]
        assert flag["severity"] == expected


def test_the_last_nights_workbook_reads_as_inspectors_expect(month):
    import zipfile

    import openpyxl

    world, out, _, _, _ = month
    last = world.lifecycle_nights[-1]
    folder = out / last.isoformat()
    flags = _flags(folder)
    overdue_red = {f["district_code"] for f in flags.values()
                   if f["overdue"] == "true" and f["severity"] == "red"}
    assert overdue_red
    district = min(overdue_red)
    path = folder / "lists" / f"{district}.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "预警清单", "昨日以来已消除", "说明", "趋势"]
    sheet = book["预警清单"]
    assert sheet.freeze_panes == "D2" and sheet.auto_filter.ref
    header = [c.value for c in sheet[1]]
    first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert (first["超期"], first["预警等级"]) == ("是", "红"), "overdue red flags come first"
    listed = [dict(zip(header, [c.value for c in row], strict=True))
              for row in sheet.iter_rows(min_row=2)]
    assert {r["行政区划代码"] for r in listed} == {district}
    assert len(listed) == sum(f["district_code"] == district and f["status"] == "open"
                              for f in flags.values())
    trend = list(book["趋势"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in trend] == [n.isoformat() for n in world.lifecycle_nights]
    with zipfile.ZipFile(path) as archive:
        assert any(name.startswith("xl/charts/chart") for name in archive.namelist())
