"""The synthetic province: deterministic, sized like a province, shaped like the
contracts, and carrying every planted case and kind of dirt it promises."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from wageguard.tables import BY_NAME, DEVREFORM_HEADERS
from wageguard_dev.demo import generate_world
from wageguard_dev.demo.cases import record_key
from wageguard_dev.demo.records import latest_closed_month

RULES = ("WA1", "WA2", "WD1", "WD2", "WD3", "CR1", "CR2", "GI1", "PAY1", "RN1")
API_TABLES = (
    "projects", "wage_accounts", "wage_deposits", "realname_monthly", "enterprises",
    "list_entries",
)
PLANTED_ID = re.compile(r"ZJ\d{6}-\d{4}-[89]\d{4}")
D = date(2026, 11, 21)


@pytest.fixture(scope="module")
def world():
    return generate_world(projects=600, seed=3, run_date=D)


def versions(world, serial: int) -> list[dict]:
    """Every version of the planted project with this serial, oldest first."""
    found = [p for p in world.projects if p["project_id"].endswith(f"-{serial}")]
    assert found, serial
    return sorted(found, key=lambda p: p["updated_at"])


def rows_of(world, table: str, project: dict) -> list[dict]:
    return [r for r in world.rows(table) if r["project_id"] == project["project_id"]]


def planted_ids(world) -> set[str]:
    cases = world.planted + world.planted_resolution + world.lifecycle
    return {c.project_id for c in cases}


def test_the_same_arguments_give_the_same_world(world):
    assert generate_world(projects=600, seed=3, run_date=D) == world
    assert generate_world(projects=600, seed=4, run_date=D).projects != world.projects


def test_planted_cases_do_not_depend_on_the_size_of_the_province(world):
    small = generate_world(projects=50, seed=3, run_date=D)
    assert small.planted == world.planted
    assert small.planted_resolution == world.planted_resolution
    ids = planted_ids(world)
    assert [p for p in small.projects if p["project_id"] in ids] == [
        p for p in world.projects if p["project_id"] in ids
    ]


def test_tables_scale_like_a_province():
    small, large = generate_world(projects=300, seed=1), generate_world(projects=3000, seed=1)

    def distinct(w, table, key):
        return len({r[key] for r in w.rows(table)})

    for w, size in ((small, 300), (large, 3000)):
        assert distinct(w, "projects", "project_id") - len(planted_ids(w)) == size
        active = {p["project_id"] for p in w.projects
                  if p["status"] in ("under_construction", "suspended")}
        with_account = {a["project_id"] for a in w.wage_accounts}
        assert len(active & with_account) >= 0.85 * len(active)
        assert 0.6 * len(active) <= distinct(w, "wage_deposits", "deposit_id") <= 2 * len(active)
        assert {r["month"] for r in w.realname_monthly} == {"2025-12"} | {
            f"2026-{m:02d}" for m in range(1, 12)}
        own = [p for p in w.projects if p["project_id"] not in planted_ids(w)]
        assert sum(1 for p in own if p["investment_code"]) >= 0.6 * len(own)
        assert len(w.fund_disbursements) >= len(w.investment_projects)
    added = 3000 - 300
    more_companies = distinct(large, "enterprises", "credit_code") - distinct(
        small, "enterprises", "credit_code")
    assert 1 / 6 <= more_companies / added <= 1 / 4, "one company per 4 to 6 projects"
    more_months = len(large.realname_monthly) - len(small.realname_monthly)
    assert 4 <= more_months / added <= 12, "up to 12 months for each project that ran"
    listed = {e["credit_code"] for e in large.list_entries}
    assert 0.02 <= len(listed) / distinct(large, "enterprises", "credit_code") <= 0.1


def test_a_province_of_three_thousand_projects_takes_about_a_second():
    started = time.monotonic()
    generate_world(projects=3000, seed=2)
    assert time.monotonic() - started < 5


def test_every_rule_has_planted_positives_and_negatives(world):
    for rule in RULES:
        outcomes = Counter(c.expected for c in world.planted if c.rule == rule)
        assert outcomes[True] >= 2 and outcomes[False] >= 2, (rule, outcomes)
    for case in world.planted:
        assert case.note
        if case.expected:
            assert case.severity in ("red", "orange", "yellow"), case
        else:
            assert case.severity is None, case
    assert len({(c.project_id, c.rule) for c in world.planted}) == len(world.planted)


def test_planted_projects_have_recognisable_ids_and_stay_clean(world):
    ids, served = planted_ids(world), {p["project_id"] for p in world.projects}
    assert ids <= served
    assert all(PLANTED_ID.fullmatch(pid) for pid in ids)
    assert not any(PLANTED_ID.fullmatch(pid) for pid in served - ids)
    dirty = world.planted_messy + world.planted_warned + world.planted_malformed
    assert not {d.key for d in dirty if d.table == "projects"} & ids


def test_boundary_cases_are_built_as_their_notes_say(world):
    for serial, days in ((91001, 30), (91002, 31)):
        signed = date.fromisoformat(versions(world, serial)[-1]["contract_signed_on"])
        assert D - signed == timedelta(days=days)
    accounts = rows_of(world, "wage_accounts", versions(world, 91004)[0])
    assert sorted(a["closed_on"] or "" for a in accounts) == ["", D.isoformat()]
    assert versions(world, 90005)[-1]["deleted"] is True
    assert [p["status"] for p in versions(world, 90008)] == [
        "under_construction", "completed", "under_construction"]
    project = versions(world, 94005)[-1]
    (deposit,) = rows_of(world, "wage_deposits", project)
    assert (project["contract_amount"], deposit["amount"]) == ("12345678.50", "123456.78")


def test_monthly_cases_use_the_months_closed_on_the_run_date(world):
    assert latest_closed_month(D) == "2026-10"
    assert latest_closed_month(date(2026, 11, 4)) == "2026-09"
    months = {r["month"]: r for r in rows_of(world, "realname_monthly", versions(world, 98101)[0])}
    assert (months["2026-10"]["registered_workers"], months["2026-10"]["attending_workers"]) == (
        100, 89)
    code = versions(world, 97001)[0]["investment_code"]
    paid = {r["拨付月份"] for r in world.fund_disbursements if r["项目代码"] == code}
    assert "202609" in paid and "202610" not in paid and "202611" in paid


def test_planted_resolution_covers_every_way_of_typing_a_party(world):
    statuses = Counter(r.expected_status for r in world.planted_resolution)
    assert statuses["resolved"] >= 10 and statuses["ambiguous"] >= 1 and statuses["absent"] >= 3
    for case in world.planted_resolution:
        assert (case.expected_credit_code is None) == (case.expected_status != "resolved"), case
    notes = " ".join(r.note for r in world.planted_resolution)
    for how in ("fails the GB 32100 check", "lower-case", "full-width", "15-digit",
                "former name", "（）", "another's former name", "blank", "tombstoned"):
        assert how in notes, how
    register = {e["credit_code"] for e in world.enterprises}
    resolved = [r.expected_credit_code for r in world.planted_resolution if r.expected_credit_code]
    assert any(code not in register for code in resolved), "a valid code outside the register"


def test_records_have_the_shape_the_contracts_promise(world):
    parties = {f"{role}_{field}" for role in ("builder", "contractor")
               for field in ("name", "credit_code")}
    for table in API_TABLES:
        columns = set(BY_NAME[table].columns)
        for record in world.rows(table):
            fields = set(record)
            if table == "projects":
                fields = fields - {"builder", "contractor"} | parties
            assert fields == columns, (table, record)
    for table, headers in DEVREFORM_HEADERS.items():
        for row in world.rows(table):
            assert list(row) == list(headers)[: len(row)]
            assert all(isinstance(value, str) for value in row.values())


def test_updated_at_is_well_formed_and_before_the_night_run(world):
    for table in API_TABLES:
        for record in world.rows(table):
            stamp = record["updated_at"]
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", stamp), stamp
            assert datetime.fromisoformat(stamp) < world.as_of
    week = world.as_of - timedelta(days=7)
    recent = [p for p in world.projects if datetime.fromisoformat(p["updated_at"]) > week]
    assert len(recent) > 0.1 * len(world.projects), "nightly incremental pulls have work to do"


def test_versions_and_tombstones_are_present(world):
    for table in API_TABLES:
        if not BY_NAME[table].has_tombstones:
            continue
        keys = Counter(record_key(table, r) for r in world.rows(table))
        assert any(n > 1 for n in keys.values()), table
        assert any(r["deleted"] for r in world.rows(table)), table


def test_messy_values_are_planted_and_listed(world):
    assert len({d.why for d in world.planted_messy}) >= 30
    for dirt in world.planted_messy:
        assert dirt.key in {record_key(dirt.table, r) for r in world.rows(dirt.table)}, dirt
    projects = world.projects
    assert any("," in p["contract_amount"] for p in projects)
    assert any("年" in p["contract_signed_on"] for p in projects)
    assert any("/" in p["contract_signed_on"] for p in projects)
    assert any(re.fullmatch(r"\d{8}", p["started_on"] or "") for p in projects)
    codes = [p["contractor"]["credit_code"] or "" for p in projects]
    assert any(re.search(r"[a-z]", code) for code in codes)
    assert any(re.search(r"[０-９Ａ-Ｚ]", code) for code in codes)
    assert any(re.fullmatch(r"\d{15}", code) for code in codes)
    assert any(p["builder"]["name"] == "" for p in projects)
    assert any(re.fullmatch(r"\d{17}[\dX]", e["person_id_masked"] or "")
               for e in world.list_entries)
    assert any(n > 1 for n in Counter(repr(p) for p in projects).values()), "exact duplicates"
    codes = [r["项目代码"] for r in world.investment_projects]
    assert any(re.fullmatch(r"\d{20}", code) for code in codes)
    assert any(code != code.strip() for code in codes)
    assert any("\n" in r["项目名称"] for r in world.investment_projects)


def test_malformed_records_are_planted_and_listed(world):
    assert {d.table for d in world.planted_malformed} == set(BY_NAME)
    whys = " ".join(d.why for d in world.planted_malformed)
    for kind in ("2026-13-45", "下月", "outside the enum", "negative", "not a number",
                 "project_id missing", "cut short"):
        assert kind in whys, kind
    assert any(p["contract_signed_on"] == "2026-13-45" for p in world.projects)
    assert any(a["project_id"] is None for a in world.wage_accounts)
    assert any(len(r) < len(DEVREFORM_HEADERS["investment_projects"])
               for r in world.investment_projects)
    gi1 = [d for d in world.planted_malformed if d.why.startswith("labour amount 待定")]
    assert [d.key[1] for d in gi1] == ["202610"], "the malformed month of planted case 97005"


def test_the_package_imports_without_airflow_pandas_or_gx():
    probe = ("import sys, wageguard_dev.demo; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'airflow', 'pandas', 'great_expectations'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_a_world_needs_projects():
    with pytest.raises(ValueError):
        generate_world(projects=0)
