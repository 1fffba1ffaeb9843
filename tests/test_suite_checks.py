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
from wageguard.validate.suite_checks import SuiteChecks


@pytest.fixture(scope="module")
def world():
    from wageguard.demo.world import generate_world

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
    checks = SuiteChecks(spec)
    failures = {}
    for start in range(0, len(rows), size):
        part = rows[start:start + size]
        found = checks.check({c: [r[c] for r in part] for c in spec.columns}, len(part))
        failures.update((numbers[start + j], f) for j, f in enumerate(found) if f)
    return checks, failures


@pytest.mark.parametrize("spec", tables.ALL, ids=lambda t: t.name)
def test_verdicts_and_results_are_gxs_on_a_dirty_province(world, spec):
    rows, numbers = live_rows(spec, world.rows(spec.name))
    reference = run_suite(spec.name, spec.columns, rows, numbers)
    checks, failures = chunked_checks(spec, rows, numbers, size=997)
    assert reference.failures, "the world must carry rows this suite rejects"
    assert failures == reference.failures
    assert checks.results() == reference.results
    assert checks.success == reference.success


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
    checks, failures = chunked_checks(spec, rows, list(range(len(rows))), size=2)
    assert failures == reference.failures
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
])
def test_a_suite_that_cannot_be_applied_exactly_is_refused(tmp_path, expectation, refusal):
    with pytest.raises(SuiteError, match=refusal):
        SuiteChecks(tables.BY_NAME["projects"], _suite(tmp_path, [expectation]))


def test_the_data_docs_page_is_gxs_rendering_of_the_results(world):
    spec = tables.BY_NAME["projects"]
    rows, numbers = live_rows(spec, world.projects)
    checks, _ = chunked_checks(spec, rows, numbers, size=500)
    page = data_docs_page(spec.name, checks.gx_results())
    assert "Expectation Suite" in page and "values must never be null" in page
    assert "contract_amount" in page and "unexpected" in page
