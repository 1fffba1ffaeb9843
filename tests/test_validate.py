"""The validate stage end to end, with the real suites and real GX (imported
once for the whole module)."""

import json
import subprocess
import sys

import pytest
from wageguard import tables
from wageguard.validate import BatchRejected, Outcome, validate_table
from wageguard.validate.dedupe import SNAPSHOT_CONFLICT, UNORDERABLE
from wageguard.validate.gx_suites import (
    EXAMPLES,
    SUITES_DIR,
    SuiteError,
    load_suite,
    run_suite,
)

STAMP = "2025-03-04T10:00:00+08:00"


def project(n=1, **changes):
    record = {
        "project_id": f"ZJ150203-2025-{n:05d}", "investment_code": "2025-150203-47-01-000001",
        "permit_no": "150203202503040101", "name": "某某小区1号楼", "district_code": "150203",
        "builder": {"name": "甲房地产公司", "credit_code": "91150203MA0N00000X"},
        "contractor": {"name": "乙建筑公司", "credit_code": "91150203MA0K00001Y"},
        "contract_amount": "12500000.00", "contract_signed_on": "2025-01-10",
        "started_on": "2025-02-01", "planned_completion_on": "2026-06-30", "completed_on": None,
        "status": "under_construction", "updated_at": STAMP, "deleted": False,
    }
    return record | changes


def wage_account(n=1, **changes):
    return {
        "account_id": f"A{n}", "project_id": "ZJ150203-2025-00001", "bank_name": "某银行",
        "account_no_masked": "6217********1234", "opened_on": "2025-01-15",
        "filed_on": "2025-01-20", "closed_on": None, "status": "open", "updated_at": STAMP,
        "deleted": False,
    } | changes


def wage_deposit(n=1, **changes):
    return {
        "deposit_id": f"D{n}", "project_id": "ZJ150203-2025-00001",
        "contractor_credit_code": "91150203MA0K00001Y", "form": "bank_guarantee",
        "amount": "250000.00", "deposited_on": "2025-01-20", "valid_until": "2026-01-19",
        "status": "active", "updated_at": STAMP, "deleted": False,
    } | changes


def realname(n=1, **changes):
    return {
        "project_id": f"ZJ150203-2025-{n:05d}", "month": "2025-02", "registered_workers": 120,
        "attending_workers": 110, "paid_workers": 108, "payroll_amount": "960000.00",
        "paid_via_contractor_amount": "950000.00", "updated_at": STAMP,
    } | changes


def enterprise(n=1, **changes):
    return {
        "credit_code": f"91150203MA0N{n:05d}X", "name": "甲房地产公司",
        "former_names": ["甲置业公司"], "legacy_registration_no": "150203000012345",
        "legal_representative": "张三", "registered_district_code": "150203",
        "status": "active", "updated_at": STAMP, "deleted": False,
    } | changes


def list_entry(n=1, **changes):
    return {
        "entry_id": f"E{n}", "subject_type": "organization", "subject_name": "丙劳务公司",
        "credit_code": "91150203MA0P00002Z", "person_id_masked": None,
        "list_type": "dishonest", "cause": "拖欠农民工工资", "decision_no": "包人社失信〔2025〕1号",
        "listing_authority": "某市人力资源和社会保障局",
        "listing_authority_district_code": "150200",
        "listed_on": "2025-01-01", "expires_on": "2028-01-01", "removed_on": None,
        "removal_reason": None, "amount_owed": "350000.00", "workers_owed": 25,
        "updated_at": STAMP, "deleted": False,
    } | changes


def investment_project(n=1, **changes):
    return {
        "项目代码": f"2025-150203-47-01-{n:06d}", "项目名称": "某某小区", "建设地点代码": "150203",
        "项目单位": "甲房地产公司", "项目单位统一社会信用代码": "91150203MA0N00000X",
        "是否政府投资": "是", "总投资": "12500.5", "审批日期": "2025-01-02", "项目状态": "在建",
    } | changes


def disbursement(n=1, **changes):
    return {
        "项目代码": f"2025-150203-47-01-{n:06d}", "拨付月份": "202502", "计划拨付金额": "100",
        "实际拨付金额": "80.5", "其中人工费用": "20.123456",
    } | changes


MAKERS = {
    "projects": project, "wage_accounts": wage_account, "wage_deposits": wage_deposit,
    "realname_monthly": realname, "enterprises": enterprise, "list_entries": list_entry,
    "investment_projects": investment_project, "fund_disbursements": disbursement,
}


def assert_accounted(outcome: Outcome):
    assert outcome.pulled == len(outcome.good) + len(outcome.quarantined) + outcome.superseded


def only_quarantined(outcome: Outcome):
    assert len(outcome.quarantined) == 1, outcome.quarantined
    return outcome.quarantined[0]


@pytest.mark.parametrize("table", list(MAKERS))
def test_well_formed_records_of_every_table_pass(table):
    records = [MAKERS[table](n) for n in range(1, 4)]
    outcome = validate_table(table, records)
    assert outcome.quarantined == []
    assert len(outcome.good) == 3
    assert all(list(row) == list(tables.BY_NAME[table].columns) for row in outcome.good)
    assert outcome.summary["validation"]["success"] is True
    assert_accounted(outcome)


@pytest.mark.parametrize(
    ("table", "changes", "reason"),
    [
        ("projects", {"district_code": "  "}, "expect_column_values_to_not_be_null(district_code)"),
        ("projects", {"contract_amount": "abc"},
         "expect_column_values_to_match_regex(contract_amount)"),
        ("projects", {"contract_amount": "-5"},
         "expect_column_values_to_match_regex(contract_amount)"),
        ("projects", {"district_code": "15020"},
         "expect_column_values_to_match_regex(district_code)"),
        ("projects", {"status": "done"}, "expect_column_values_to_be_in_set(status)"),
        ("projects", {"started_on": "2025-02-30"},
         "expect_column_values_to_match_strftime_format(started_on)"),
        ("projects", {"deleted": None}, "expect_column_values_to_not_be_null(deleted)"),
        ("projects", {"builder": "甲房地产公司"}, "normalise(builder): not an object"),
        ("wage_accounts", {"closed_on": "2025-01-14"},
         "expect_column_pair_values_a_to_be_greater_than_b(closed_on,opened_on)"),
        ("wage_deposits", {"valid_until": "2025-01-19"},
         "expect_column_pair_values_a_to_be_greater_than_b(valid_until,deposited_on)"),
        ("wage_deposits", {"form": "cheque"}, "expect_column_values_to_be_in_set(form)"),
        ("wage_deposits", {"status": "lost"}, "expect_column_values_to_be_in_set(status)"),
        ("realname_monthly", {"month": "2025-13"},
         "expect_column_values_to_match_strftime_format(month)"),
        ("realname_monthly", {"payroll_amount": None},
         "expect_column_values_to_not_be_null(payroll_amount)"),
        ("enterprises", {"credit_code": "91150203MA0N0000IX"},
         "expect_column_values_to_match_regex(credit_code)"),
        ("enterprises", {"credit_code": "150203000012345"},
         "expect_column_values_to_match_regex(credit_code)"),
        ("list_entries", {"expires_on": "2025-01-01"},
         "expect_column_pair_values_a_to_be_greater_than_b(expires_on,listed_on)"),
        ("list_entries", {"list_type": "blacklist"},
         "expect_column_values_to_be_in_set(list_type)"),
        ("list_entries", {"subject_type": "company"},
         "expect_column_values_to_be_in_set(subject_type)"),
        ("investment_projects", {"是否政府投资": "Y"},
         "expect_column_values_to_be_in_set(government_invested)"),
        ("fund_disbursements", {"拨付月份": "202513"},
         "expect_column_values_to_match_regex(month)"),
        ("fund_disbursements", {"其中人工费用": "未知"},
         "expect_column_values_to_match_regex(labour_amount)"),
        # csv.DictReader gives None for the fields a short row lacks ("" for a blank one)
        ("fund_disbursements", {"实际拨付金额": None, "其中人工费用": None},
         "normalise(record): row cut short before 其中人工费用"),
        ("investment_projects", {"是否政府投资": None, "总投资": None, "审批日期": None,
                                 "项目状态": None},
         "normalise(record): row cut short before 项目状态"),
    ],
)
def test_each_kind_of_malformed_record_is_quarantined_with_its_reason(table, changes, reason):
    make = MAKERS[table]
    bad = make(2, **changes)
    outcome = validate_table(table, [make(1), bad, make(3)])
    quarantined = only_quarantined(outcome)
    assert reason in quarantined.reasons
    assert quarantined.raw is bad
    assert quarantined.position == 1
    assert quarantined.key is not None
    assert len(outcome.good) == 2
    assert_accounted(outcome)



@pytest.mark.parametrize(
    ("table", "changes", "warning", "column"),
    [
        ("projects", {"name": " "}, "expect_column_values_to_not_be_null(name)", "name"),
        ("projects", {"completed_on": "31/12/2025"},
         "expect_column_values_to_match_regex(completed_on)", "completed_on"),
        ("wage_accounts", {"bank_name": ""}, "expect_column_values_to_not_be_null(bank_name)",
         "bank_name"),
        ("wage_accounts", {"account_no_masked": None},
         "expect_column_values_to_not_be_null(account_no_masked)", "account_no_masked"),
        ("wage_accounts", {"status": "frozen"}, "expect_column_values_to_be_in_set(status)",
         "status"),
        ("realname_monthly", {"paid_workers": "12.5"},
         "expect_column_values_to_match_regex(paid_workers)", "paid_workers"),
        ("enterprises", {"name": "　"}, "expect_column_values_to_not_be_null(name)", "name"),
        ("enterprises", {"status": "存续"}, "expect_column_values_to_be_in_set(status)", "status"),
        ("enterprises", {"former_names": "甲置业公司"},
         "normalise(former_names): not a list of names", "former_names"),
        ("list_entries", {"subject_name": ""},
         "expect_column_values_to_not_be_null(subject_name)", "subject_name"),
        ("list_entries", {"cause": None}, "expect_column_values_to_not_be_null(cause)", "cause"),
        ("list_entries", {"decision_no": " "},
         "expect_column_values_to_not_be_null(decision_no)", "decision_no"),
        ("list_entries", {"listing_authority": ""},
         "expect_column_values_to_not_be_null(listing_authority)", "listing_authority"),
        ("list_entries", {"amount_owed": "不详"},
         "expect_column_values_to_match_regex(amount_owed)", "amount_owed"),
        ("list_entries", {"workers_owed": -3}, "expect_column_values_to_match_regex(workers_owed)",
         "workers_owed"),
        ("investment_projects", {"项目状态": "完工"}, "expect_column_values_to_be_in_set(status)",
         "status"),
        ("investment_projects", {"总投资": "1.0000001"},
         "expect_column_values_to_match_regex(total_investment)", "total_investment"),
        ("investment_projects", {"建设地点代码": "15O203"},
         "expect_column_values_to_match_regex(site_district_code)", "site_district_code"),
        ("fund_disbursements", {"实际拨付金额": "待定"},
         "expect_column_values_to_match_regex(actual_amount)", "actual_amount"),
    ],
)
def test_a_breach_of_a_descriptive_column_is_kept_with_its_warning(table, changes, warning,
                                                                    column):
    make = MAKERS[table]
    outcome = validate_table(table, [make(1), make(2, **changes), make(3)])
    assert outcome.quarantined == []
    assert len(outcome.good) == 3
    assert_accounted(outcome)
    (warned,) = outcome.warnings
    assert warned.position == 1 and warned.key is not None
    assert warning in [b.expectation for b in warned.breaches]
    assert {(b.column, b.severity) for b in warned.breaches} == {(column, "warning")}
    kept = outcome.good[outcome.good_positions.index(1)]
    assert kept[column] is None, "a breached value is not loaded"
    assert outcome.summary["warned"] == 1
    assert outcome.summary["warnings"][warning] == 1


def test_a_record_breaking_a_critical_and_a_descriptive_check_is_quarantined():
    outcome = validate_table("wage_accounts", [
        wage_account(1, bank_name="", opened_on=None), wage_account(2)])
    assert only_quarantined(outcome).reasons == [
        "expect_column_values_to_not_be_null(opened_on)"]
    assert outcome.warnings == []
    assert outcome.summary["warned"] == 0

@pytest.mark.parametrize(
    "code", ["91150203MA0N0000IX", "150203000012345", None, "  ", "91150203ma0n00000x"]
)
def test_party_credit_codes_are_left_to_identity_resolution(code):
    records = [
        project(1, builder={"name": "甲", "credit_code": code}),
        project(2, contractor={"name": "乙", "credit_code": code}),
    ]
    assert validate_table("projects", records).quarantined == []
    assert validate_table("wage_deposits", [wage_deposit(contractor_credit_code=code)]).good
    assert validate_table("list_entries", [list_entry(credit_code=code)]).good


def test_blank_party_names_are_left_to_identity_resolution():
    # A project whose contractor nobody named still needs its account and deposit checked.
    records = [project(1, builder={"name": " ", "credit_code": None}),
               project(2, contractor={"name": "", "credit_code": None}, name="")]
    assert validate_table("projects", records).quarantined == []


def test_date_order_checks_ignore_missing_dates():
    outcome = validate_table("wage_deposits", [wage_deposit(form="cash", valid_until=None)])
    assert outcome.quarantined == []


def test_blank_labour_cost_is_a_month_with_nothing_paid_in_not_a_bad_row():
    # rules.md GI1 reads a blank 其中人工费用 as zero, so the row must reach the warehouse.
    outcome = validate_table("fund_disbursements", [
        MAKERS["fund_disbursements"](1, 其中人工费用="")
    ])
    assert len(outcome.good) == 1 and outcome.good[0]["labour_amount"] is None


@pytest.mark.parametrize("table", ["projects", "wage_accounts", "enterprises", "list_entries"])
def test_tombstones_pass_with_only_key_and_updated_at(table):
    spec = tables.BY_NAME[table]
    tombstone = {column: None for column in spec.key} | {
        spec.key[0]: "GONE-1", "updated_at": STAMP, "deleted": True,
    }
    outcome = validate_table(table, [tombstone, MAKERS[table](1)])
    assert outcome.quarantined == []
    assert outcome.summary["tombstones"] == 1
    assert outcome.summary["validation"]["rows"] == 1
    gone = next(row for row in outcome.good if row["deleted"])
    assert gone[spec.key[0]] == "GONE-1"


def test_a_tombstone_without_updated_at_cannot_be_ordered():
    outcome = validate_table("projects", [{"project_id": "P1", "deleted": True}, project(1)])
    quarantined = only_quarantined(outcome)
    assert quarantined.key == "P1"
    assert quarantined.reasons == [UNORDERABLE]


def test_rows_without_key_or_updated_at_go_straight_to_quarantine():
    records = [project(1, project_id=" "), project(2, updated_at="yesterday"), project(3)]
    outcome = validate_table("projects", records, max_bad_share=1)
    by_raw = {id(q.raw): q for q in outcome.quarantined}
    assert by_raw[id(records[0])].key is None
    assert by_raw[id(records[0])].reasons == ["missing key (project_id)"]
    assert by_raw[id(records[1])].reasons == [UNORDERABLE]
    assert [row["project_id"] for row in outcome.good] == ["ZJ150203-2025-00003"]


def test_latest_updated_at_wins_and_the_others_are_superseded():
    records = [
        project(1, name="v2", updated_at="2025-03-05T10:00:00+08:00"),
        project(1, name="v1", updated_at="2025-03-04T10:00:00+08:00"),
        # The same instant as v2 written in UTC, later than v2 by one second.
        project(1, name="v3", updated_at="2025-03-05T02:00:01Z"),
        project(2),
    ]
    outcome = validate_table("projects", records)
    assert outcome.superseded == 2
    assert sorted(row["name"] for row in outcome.good) == ["v3", "某某小区1号楼"]
    assert_accounted(outcome)


def test_a_newer_malformed_version_is_quarantined_not_replaced_by_an_older_one():
    records = [project(1, updated_at="2025-03-05T10:00:00+08:00", status="??"), project(1)]
    outcome = validate_table("projects", records)
    assert outcome.good == []
    assert outcome.superseded == 1
    assert only_quarantined(outcome).raw is records[0]


def test_identical_versions_at_the_same_time_are_superseded():
    outcome = validate_table("projects", [project(1), project(1, name=" 某某小区1号楼 ")])
    assert len(outcome.good) == 1
    assert outcome.superseded == 1
    assert outcome.summary["tied_versions"] == 0


def test_differing_versions_at_the_same_time_are_settled_deterministically():
    records = [project(1, name="甲"), project(1, name="乙")]
    forward = validate_table("projects", records)
    backward = validate_table("projects", records[::-1])
    assert forward.good == backward.good
    assert forward.superseded == backward.superseded == 1
    assert forward.summary["tied_versions"] == 1


def test_snapshot_exact_duplicates_are_superseded():
    outcome = validate_table(
        "investment_projects",
        [
            investment_project(1),
            investment_project(1, 项目名称=" 某某小区 "),
            investment_project(2),
        ],
    )
    assert len(outcome.good) == 2
    assert outcome.superseded == 1
    assert outcome.quarantined == []


def test_snapshot_duplicates_with_differing_content_are_all_quarantined():
    records = [disbursement(1), disbursement(1, 实际拨付金额="81"), disbursement(2)]
    outcome = validate_table("fund_disbursements", records, max_bad_share=1)
    assert [row["investment_code"] for row in outcome.good] == ["2025-150203-47-01-000002"]
    assert [q.reasons for q in outcome.quarantined] == [[SNAPSHOT_CONFLICT]] * 2
    assert {q.key for q in outcome.quarantined} == {"2025-150203-47-01-000001|2025-02"}
    assert outcome.superseded == 0
    assert_accounted(outcome)


def test_the_right_rows_are_quarantined_in_a_larger_mixed_batch():
    records = [
        project(n, contract_amount="12,5") if n % 7 == 0 else project(n) for n in range(1, 701)
    ]
    records += [project(n, updated_at="2020-01-01T00:00:00+08:00") for n in range(1, 51)]
    outcome = validate_table("projects", records)
    assert {q.key for q in outcome.quarantined} == {
        f"ZJ150203-2025-{n:05d}" for n in range(7, 701, 7)
    }
    assert outcome.superseded == 50
    assert len(outcome.good) == 600
    assert [records[i]["project_id"] for i in outcome.good_positions] == [
        row["project_id"] for row in outcome.good
    ]
    assert all(records[q.position] is q.raw for q in outcome.quarantined)
    assert_accounted(outcome)
    assert outcome.quarantined_share == pytest.approx(100 / 750)


def test_versions_of_many_keys_are_settled_key_by_key():
    """Enough keys that they are settled in every share of the dedupe index:
    each key keeps its latest version, ties are counted, and a snapshot's
    differing duplicates are all quarantined, whatever share their key fell in."""
    later = "2025-03-06T10:00:00+08:00"
    records = []
    for n in range(1, 401):
        records.append(project(n, name="old"))
        records.append(project(n, name="latest", updated_at=later))
        if n % 5 == 0:  # a second, differing version at the latest instant
            records.append(project(n, name="tied", updated_at=later))
    outcome = validate_table("projects", records[::-1])
    assert len(outcome.good) == 400 and outcome.quarantined == []
    assert outcome.superseded == len(records) - 400
    assert outcome.summary["tied_versions"] == 80
    assert {row["name"] for row in outcome.good if int(row["project_id"][-5:]) % 5} \
        == {"latest"}

    rows = []
    for n in range(1, 401):
        rows.append(disbursement(n))
        if n % 3 == 0:
            rows.append(disbursement(n, 计划拨付金额=" 100 "))  # the same, as normalised
        if n % 4 == 0:
            rows.append(disbursement(n, 实际拨付金额="81"))
    outcome = validate_table("fund_disbursements", rows, max_bad_share=1)
    conflicting = {n for n in range(1, 401) if n % 4 == 0}
    assert {q.key for q in outcome.quarantined} == {
        f"2025-150203-47-01-{n:06d}|2025-02" for n in conflicting}
    assert {tuple(q.reasons) for q in outcome.quarantined} == {(SNAPSHOT_CONFLICT,)}
    assert len(outcome.quarantined) == sum(3 if n % 3 == 0 else 2 for n in conflicting)
    assert len(outcome.good) == 400 - len(conflicting)
    assert_accounted(outcome)


def test_changes_are_recorded_for_good_rows_with_their_key():
    record = project(1, contract_amount="1,250,000", started_on="2025/2/1")
    outcome = validate_table("projects", [record])
    assert sorted(
        (c["key"], c["column"], c["before"], c["after"], c["kind"]) for c in outcome.changes
    ) == [
        ("ZJ150203-2025-00001", "contract_amount", "1,250,000", "1250000.00", "money"),
        ("ZJ150203-2025-00001", "started_on", "2025/2/1", "2025-02-01", "date"),
    ]
    assert outcome.summary["changes"] == 2


def test_an_all_bad_batch_is_rejected_with_a_clear_message():
    records = [project(n, contract_amount="n/a") for n in range(1, 25)]
    with pytest.raises(BatchRejected) as caught:
        validate_table("projects", records)
    message = str(caught.value)
    assert "projects" in message
    assert "24 of 24 records quarantined" in message
    assert "expect_column_values_to_match_regex(contract_amount) (24)" in message
    assert "expectations/projects.json" in message
    assert len(caught.value.outcome.quarantined) == 24


def test_a_small_pull_is_judged_row_by_row_not_as_a_batch():
    records = [project(n, contract_amount="n/a") for n in range(1, 4)]
    assert len(validate_table("projects", records).quarantined) == 3
    with pytest.raises(BatchRejected):
        validate_table("projects", records, min_rows_for_share=3)


def test_the_bad_share_threshold_is_a_parameter():
    records = [project(1), project(2, status="?")]
    assert len(validate_table("projects", records).quarantined) == 1  # 50% is not over 50%
    with pytest.raises(BatchRejected):
        validate_table("projects", records, max_bad_share=0.25, min_rows_for_share=2)


def test_an_empty_pull_is_fine_unless_the_table_must_not_be_empty():
    outcome = validate_table("enterprises", [])
    assert (outcome.pulled, outcome.good, outcome.quarantined, outcome.superseded) == (0, [], [], 0)
    assert outcome.quarantined_share == 0.0
    with pytest.raises(BatchRejected, match="enterprises: the source served no records"):
        validate_table("enterprises", [], allow_empty=False)


def _keys(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def test_summary_is_json_and_summary_sized():
    records = [project(n, contract_amount="bad", started_on=None) for n in range(1, 40)]
    records += [project(n) for n in range(40, 120)]
    summary = validate_table("projects", records).summary
    json.dumps(summary, allow_nan=False)
    assert not {"unexpected_index_list", "unexpected_list", "unexpected_rows"} & set(_keys(summary))
    results = summary["validation"]["expectations"]
    assert all(len(r["partial_unexpected_list"]) <= EXAMPLES for r in results)
    name = "expect_column_values_to_match_regex(contract_amount)"
    amount = next(r for r in results if r["expectation"] == name)
    assert amount | {"unexpected_percent": None} == {
        "expectation": name,
        "type": "expect_column_values_to_match_regex",
        "columns": ["contract_amount"],
        "severity": "critical",
        "success": False,
        "element_count": 119,
        "unexpected_count": 39,
        "unexpected_percent": None,
        "partial_unexpected_list": ["bad"] * EXAMPLES,
    }
    assert summary["reasons"] == {name: 39}


@pytest.mark.parametrize("spec", tables.ALL, ids=lambda t: t.name)
def test_each_table_has_a_suite_over_its_own_columns(spec):
    suite = load_suite(spec.name)
    assert (SUITES_DIR / f"{spec.name}.json").is_file()
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        named = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")]
        named += kwargs.get("column_list", [])
        assert {c for c in named if c} <= set(spec.columns), expectation


def test_a_suite_file_that_gx_cannot_build_is_an_error_not_a_shorter_suite(tmp_path):
    broken = {"name": "projects", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "name"}},
        {"type": "expect_column_values_to_be_shiny", "kwargs": {"column": "name"}},
    ]}
    (tmp_path / "projects.json").write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(SuiteError, match="some expectations are invalid"):
        load_suite("projects", tmp_path)


def test_an_expectation_that_cannot_run_is_an_error_not_a_quarantine():
    with pytest.raises(SuiteError, match=r"could not run: .*does not exist"):
        run_suite("projects", ("project_id",), [{"project_id": "P1"}], [0])


def test_the_package_imports_without_pandas_or_gx():
    code = (
        "import sys, wageguard.validate; "
        "assert 'pandas' not in sys.modules and 'great_expectations' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _renamed(record: dict, old: str, new: str) -> dict:
    return {new if field == old else field: value for field, value in record.items()}


@pytest.mark.parametrize(("table", "field", "new"), [
    ("wage_accounts", "filed_on", "filing_date"),
    ("projects", "started_on", "start_date"),
    ("fund_disbursements", "其中人工费用", "其中：人工费用"),
])
def test_a_field_the_rules_read_renamed_at_the_source_fails_the_pull(table, field, new):
    records = [_renamed(MAKERS[table](n), field, new) for n in range(1, 4)]
    with pytest.raises(BatchRejected, match=rf"none of the 3 records served has {field} .*"
                       rf"fields wageguard does not know: {new} \(renamed\?\)"):
        validate_table(table, records)


def test_a_field_the_rules_read_absent_from_a_large_pull_fails_it():
    records = [{k: v for k, v in project(n).items() if k != "started_on"} for n in range(1, 26)]
    with pytest.raises(BatchRejected, match="none of the 25 records served has started_on"):
        validate_table("projects", records)
    few = [{k: v for k, v in project(n).items() if k != "started_on"} for n in range(1, 4)]
    assert len(validate_table("projects", few).good) == 3, \
        "a source may omit a null field: three records all without it prove nothing"


def test_a_new_field_or_a_missing_descriptive_one_is_reported_and_loaded():
    records = [project(n, site_manager="张三") for n in range(1, 4)]
    records = [{k: v for k, v in r.items() if k != "permit_no"} for r in records]
    outcome = validate_table("projects", records)
    assert len(outcome.good) == 3
    assert outcome.summary["fields"] == {"missing": [], "absent": ["permit_no"],
                                         "unknown": {"site_manager": 3}}
