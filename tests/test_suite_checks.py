"""The suites applied chunk by chunk give exactly GX's verdicts and results on
the same rows, for every table of a dirty generated province, and a suite they
cannot honour exactly is refused rather than half applied."""

from __future__ import annotations

import json

import pytest
from wageguard import tables
from wageguard.landing.store import canonical, payload_hash
from wageguard.validate.dedupe import Versions
from wageguard.validate.gx_suites import SuiteError, data_docs_page, run_suite
from wageguard.validate.normalise import normalise
from wageguard.validate.suite_checks import SuiteChecks, check_suites


@pytest.fixture(scope="module")
def world():
    from wageguard_dev.demo.world import generate_world

    return generate_world(projects=1500, seed=5)


def live_rows(spec, records):
    """The rows GX is given: normalised, the kept version of each key, no tombstones."""
    normalised = normalise(spec, records)
    versions = Versions(spec)
    versions.add(normalised.columns, [payload_hash(canonical(r)) for r in records])
    rows = normalised.rows
    kept = versions.settle(lambda ps: {p: json.dumps(rows[p], sort_keys=True) for p in ps}).kept
    live = [i for i in range(len(rows)) if kept[i] and rows[i].get("deleted") is not True]
    return [rows[i] for i in live], live


def chunked_checks(spec, rows, numbers, size):
    """The suite applied chunk by chunk: per row number, the names of every
    expectation it fails (sorted: GX lists them by column, ours by severity),
    and its breaches of the non-critical ones."""
    checks = SuiteChecks(spec)
    failures, breaches = {}, {}
    for start in range(0, len(rows), size):
        part = rows[start:start + size]
        critical, kept = checks.check({c: [r[c] for r in part] for c in spec.columns},
                                      len(part))
        for j, (failed, breached) in enumerate(zip(critical, kept, strict=True)):
            names = (failed or []) + [b.expectation for b in breached or []]
            if names:
                failures[numbers[start + j]] = sorted(names)
            if breached:
                breaches[numbers[start + j]] = breached
    return checks, failures, breaches


def gx_failures(reference):
    return {row: sorted(names) for row, names in reference.failures.items()}


@pytest.mark.parametrize("spec", tables.ALL, ids=lambda t: t.name)
def test_verdicts_and_results_are_gxs_on_a_dirty_province(world, spec):
    rows, numbers = live_rows(spec, world.rows(spec.name))
    reference = run_suite(spec.name, spec.columns, rows, numbers)
    checks, failures, breaches = chunked_checks(spec, rows, numbers, size=997)
    assert reference.failures, "the world must carry rows this suite rejects"
    assert failures == gx_failures(reference)
    assert checks.results() == reference.results
    assert checks.success == reference.success
    severity = {r["expectation"]: r["severity"] for r in reference.results}
    assert {b.severity for found in breaches.values() for b in found} <= {"warning", "info"}
    assert all(severity[b.expectation] == b.severity
               for found in breaches.values() for b in found)


def test_edge_cases_of_each_expectation_type_match_gx():
    spec = tables.BY_NAME["wage_accounts"]
    base = {"account_id": "A", "project_id": "P", "bank_name": "b", "account_no_masked": "x",
            "opened_on": "2025-01-15", "filed_on": None, "closed_on": None, "status": "open",
            "updated_at": "2025-03-04T10:00:00+08:00", "deleted": False}
    rows = [
        base | {"account_id": "A1", "bank_name": None, "filed_on": "2025-13-01",
                "closed_on": "2025-01-01"},
        base | {"account_id": "A2", "opened_on": None, "filed_on": "bad", "closed_on": "2025-01-20",
                "status": "weird"},
        base | {"account_id": "A3", "closed_on": "2025-01-15", "updated_at": "x",
                "deleted": None},
        base | {"account_id": "A4", "closed_on": "2025-01-14", "status": None},
        base | {"account_id": "A5", "opened_on": "2025-1-5", "filed_on": "2025-02-30"},
    ]
    reference = run_suite(spec.name, spec.columns, rows, list(range(len(rows))))
    checks, failures, _ = chunked_checks(spec, rows, list(range(len(rows))), size=2)
    assert failures == gx_failures(reference)
    assert checks.results() == reference.results


def test_an_empty_pull_has_gxs_empty_results():
    spec = tables.BY_NAME["fund_disbursements"]
    checks = SuiteChecks(spec)
    checks.check({c: [] for c in spec.columns}, 0)
    assert checks.results() == run_suite(spec.name, spec.columns, [], []).results


def _suite(tmp_path, expectations, name="projects"):
    (tmp_path / f"{name}.json").write_text(
        json.dumps({"name": name, "expectations": expectations}), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("expectation", "refusal"), [
    ({"type": "expect_column_mean_to_be_between", "kwargs": {"column": "contract_amount"}},
     "not among the expectation types"),
    ({"type": "expect_column_values_to_be_unique", "kwargs": {"column": "name"}},
     "do not include the record key"),
    ({"type": "expect_column_pair_values_a_to_be_greater_than_b",
      "kwargs": {"column_A": "completed_on", "column_B": "started_on"}},
     "either_value_is_missing"),
    ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "colour"}},
     "names columns the table does not have"),
    ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "name"},
      "severity": "fatal"}, "has severity 'fatal'"),
    ({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "name"},
      "severity": None}, "has severity None"),
    ({"type": "expect_column_values_to_be_in_set",
      "kwargs": {"column": "status", "value_set": ["pending"], "row_condition": 'deleted==False',
                 "condition_parser": "pandas"}},
     "sets condition_parser, row_condition, which wageguard's checks do not apply"),
    ({"type": "expect_column_values_to_match_regex",
      "kwargs": {"column": "name", "regex": "x", "result_format": "COMPLETE"}},
     "may set only mostly, regex"),
])
def test_a_suite_that_cannot_be_applied_exactly_is_refused(tmp_path, expectation, refusal):
    with pytest.raises(SuiteError, match=refusal):
        SuiteChecks(tables.BY_NAME["projects"], _suite(tmp_path, [expectation]))


def test_the_data_docs_page_is_gxs_rendering_of_the_results(world):
    spec = tables.BY_NAME["projects"]
    rows, numbers = live_rows(spec, world.projects)
    checks, _, _ = chunked_checks(spec, rows, numbers, size=500)
    page = data_docs_page(spec.name, checks.gx_results())
    assert "Expectation Suite" in page and "values must never be null" in page
    assert "contract_amount" in page and "unexpected" in page
    assert "Severity" in page
    assert ">warning<" in page and ">critical<" in page, "each expectation shows its severity"


def test_data_docs_of_a_pull_stored_before_severities_show_them_critical():
    results = [["expect_column_values_to_not_be_null", {"column": "project_id"}, True,
                {"element_count": 1, "unexpected_count": 0, "unexpected_percent": 0.0,
                 "partial_unexpected_list": []}]]
    page = data_docs_page("projects", results)
    assert ">critical<" in page and ">warning<" not in page


@pytest.mark.parametrize("spec", tables.ALL, ids=lambda t: t.name)
def test_critical_checks_are_exactly_those_of_the_columns_the_rules_need(spec):
    """tables.py names the columns the rules, the deposit formula and the exports
    cannot do without; the suite quarantines for breaches of those and of no
    other, and checks each of them."""
    checks = SuiteChecks(spec)
    critical = {c for e in checks.expectations if e.severity == "critical" for c in e.columns}
    assert critical == spec.critical
    for expectation in checks.expectations:
        if expectation.severity != "critical":
            assert not set(expectation.columns) & spec.critical, expectation.name


def test_a_suite_that_cannot_be_honoured_stops_the_run_at_its_start(tmp_path, monkeypatch):
    from wageguard import pipeline
    from wageguard.validate import gx_suites

    for spec in tables.ALL:
        (tmp_path / f"{spec.name}.json").write_bytes(
            (gx_suites.SUITES_DIR / f"{spec.name}.json").read_bytes())
    assert check_suites(tmp_path) == check_suites()
    suite = json.loads((tmp_path / "wage_accounts.json").read_text(encoding="utf-8"))
    suite["expectations"][2]["severity"] = "high"
    (tmp_path / "wage_accounts.json").write_text(json.dumps(suite), encoding="utf-8")
    monkeypatch.setattr("wageguard.validate.suite_checks.SUITES_DIR", tmp_path)
    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    with pytest.raises(SuiteError,
                       match=r"wage_accounts.json: .*\(bank_name\) has severity 'high'"):
        pipeline.prepare_warehouse()
    assert not (tmp_path / "never.db").exists(), "refused before the warehouse is touched"
