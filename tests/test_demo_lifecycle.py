"""The lifecycle cases of the synthetic province: each states a raised_on (or none) for
every night of the month, obeys the flag lifecycle of rules.md, and has, behind every
change, a record version stamped on the day of the night that must first see it."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from itertools import pairwise

import pytest
from wageguard_dev.demo import generate_world
from wageguard_dev.demo.cases import record_key
from wageguard_dev.demo.records import SHANGHAI

D = date(2026, 11, 21)
LIFECYCLE_ID = re.compile(r"ZJ\d{6}-\d{4}-8\d{4}")
HOUSING_TABLES = ("projects", "wage_accounts", "wage_deposits")


@pytest.fixture(scope="module")
def world():
    return generate_world(projects=200, seed=5, run_date=D)


def day(offset: int) -> date:
    return D + timedelta(days=offset)


def clock(night: date) -> datetime:
    """The sources' clock for the run of `night`."""
    return datetime.combine(night + timedelta(days=1), time(1), SHANGHAI)


def case_of(world, serial: int):
    (case,) = [c for c in world.lifecycle if c.project_id.endswith(f"-{serial}")]
    return case


def history(world, project_id: str, table: str) -> list[dict]:
    """Every version of the records of one project in `table`, oldest first; for list
    entries, those of the project's contractor."""
    if table == "list_entries":
        (code,) = {p["contractor"]["credit_code"] for p in world.projects
                   if p["project_id"] == project_id}
        rows = [e for e in world.list_entries if e["credit_code"] == code]
    else:
        rows = [r for r in world.rows(table) if r["project_id"] == project_id]
    return sorted(rows, key=lambda r: datetime.fromisoformat(r["updated_at"]))


def seen_on(world, project_id: str, table: str, night: date) -> list[dict]:
    """The latest version of each record of the project that the run of `night` can pull."""
    latest = {}
    for record in history(world, project_id, table):
        if datetime.fromisoformat(record["updated_at"]) <= clock(night):
            latest[record_key(table, record)] = record
    return list(latest.values())


def changes(case) -> list[date]:
    """The nights on which the expected raised_on differs from the night before."""
    expected = case.expected
    return [n for before, n in pairwise(expected) if expected[n] != expected[before]]


def test_the_month_is_thirty_nights_ending_on_the_run_date(world):
    nights = world.lifecycle_nights
    assert nights[0] == day(-29) and nights[-1] == D
    assert nights == [day(-29) + timedelta(days=i) for i in range(30)]


def test_every_case_states_every_night_and_obeys_the_lifecycle(world):
    for case in world.lifecycle:
        assert list(case.expected) == world.lifecycle_nights, case.note
        previous = None
        for night, raised in case.expected.items():
            if raised is not None:
                assert raised == (previous or night), (night, case)
            previous = raised


def test_the_cases_cover_every_turn_of_a_flags_life(world):
    cases = world.lifecycle
    assert {c.rule for c in cases} >= {"WA1", "WA2", "WD1", "CR1"}
    open_all_month = [c for c in cases if set(c.expected.values()) == {day(-29)}]
    assert {c.rule for c in open_all_month} >= {"WA1", "WA2"}, "red and yellow go overdue"
    raised_later = [c for c in cases if c.expected[day(-29)] is None and c.expected[D]]
    resolved = [c for c in cases if c.expected[day(-29)] and c.expected[D] is None]
    recurring = [c for c in cases if len(set(c.expected.values()) - {None}) == 2]
    assert len(raised_later) >= 2 and len(resolved) >= 4 and recurring


def test_lifecycle_projects_are_planted_apart(world):
    ids = [c.project_id for c in world.lifecycle]
    assert len(set(ids)) == len(ids), "one case per project"
    assert all(LIFECYCLE_ID.fullmatch(pid) for pid in ids)
    assert set(ids) <= {p["project_id"] for p in world.projects}
    assert not set(ids) & {c.project_id for c in world.planted + world.planted_resolution}
    dirty = {d.key for d in world.planted_messy + world.planted_warned + world.planted_malformed}
    for pid in ids:
        for table in HOUSING_TABLES:
            assert not {record_key(table, r) for r in history(world, pid, table)} & dirty, pid


def test_lifecycle_cases_do_not_depend_on_the_size_of_the_province(world):
    small = generate_world(projects=20, seed=5, run_date=D)
    assert small.lifecycle == world.lifecycle
    for case in world.lifecycle:
        for table in (*HOUSING_TABLES, "list_entries"):
            assert history(small, case.project_id, table) == history(
                world, case.project_id, table)


def test_every_record_change_is_stamped_in_office_hours_of_its_day(world):
    for case in world.lifecycle:
        for table in (*HOUSING_TABLES, "list_entries"):
            for record in history(world, case.project_id, table):
                stamped = datetime.fromisoformat(record["updated_at"])
                assert time(8) <= stamped.time() < time(19), record
                assert stamped < clock(D)


def test_every_change_but_a_date_passing_is_a_record_version_of_its_day(world):
    for case in world.lifecycle:
        days = {datetime.fromisoformat(r["updated_at"]).date()
                for table in (*HOUSING_TABLES, "list_entries")
                for r in history(world, case.project_id, table)}
        for night in changes(case):
            if night not in days:
                (project,) = seen_on(world, case.project_id, "projects", night)
                signed = date.fromisoformat(project["contract_signed_on"])
                assert (case.rule, night) == ("WA1", signed + timedelta(days=31)), case.note


def test_a_date_passing_raises_a_flag_with_no_record_changing(world):
    case = case_of(world, 81002)
    assert changes(case) == [day(-14)]
    for table in HOUSING_TABLES:
        assert seen_on(world, case.project_id, table, day(-29)) == seen_on(
            world, case.project_id, table, D)
    (project,) = seen_on(world, case.project_id, "projects", D)
    assert date.fromisoformat(project["contract_signed_on"]) == day(-45)


@pytest.mark.parametrize(
    ("serial", "table", "offset", "before", "after"),
    [
        (83001, "wage_deposits", -12, [], [("deposited_on", day(-12)), ("status", "active")]),
        (83003, "wage_deposits", -15, [], [("deposited_on", day(-20))]),
        (81003, "wage_accounts", -20, [], [("opened_on", day(-20)), ("closed_on", None)]),
        (81003, "wage_accounts", -8, [("closed_on", None)], [("closed_on", day(-8))]),
        (83002, "projects", -5, [("deleted", False)], [("deleted", True)]),
        (83004, "projects", -7, [("status", "under_construction")],
         [("status", "completed"), ("completed_on", day(-7))]),
        (81004, "projects", -16, [("planned_completion_on", day(300))],
         [("planned_completion_on", day(400)), ("status", "under_construction")]),
        (86001, "list_entries", -10, [("removed_on", None)],
         [("removed_on", day(-10)), ("listed_on", day(-100))]),
        (86002, "list_entries", -9, [], [("listed_on", day(-9)), ("subject_type", "organization")]),
    ],
)
def test_the_record_behind_a_change_is_first_seen_on_its_night(
    world, serial, table, offset, before, after
):
    """`before` and `after`: fields of the one record seen the night before and on the
    night of the change ([]: no record seen)."""
    pid = case_of(world, serial).project_id
    night = day(offset)
    for seen_by, expected in ((night - timedelta(days=1), before), (night, after)):
        seen = seen_on(world, pid, table, seen_by)
        if not expected:
            assert seen == [], seen_by
            continue
        (record,) = seen
        assert [(name, record[name]) for name, _ in expected] == [
            (name, value.isoformat() if isinstance(value, date) else value)
            for name, value in expected
        ], seen_by
