"""Normalisation: what people typed becomes the canonical form, every fix is
recorded, and nothing unreadable is guessed at. Pure Python, no GX."""

import json
import random

import pytest
from wageguard import tables
from wageguard.validate.normalise import kind_of, normalise


def one(table, record):
    out = normalise(tables.BY_NAME[table], [record])
    return out.rows[0], out.changes[0], out.problems[0]


def value(table, column, raw):
    """The normalised value of one column typed as `raw`."""
    spec = tables.BY_NAME[table]
    if spec.system == "devreform":
        header = {c: h for h, c in tables.DEVREFORM_HEADERS[table].items()}[column]
        return one(table, {header: raw})[0][column]
    return one(table, {column: raw})[0][column]


@pytest.mark.parametrize("spec", tables.ALL, ids=lambda t: t.name)
def test_rows_have_exactly_the_tables_columns_in_order(spec):
    assert list(normalise(spec, [{}]).rows[0]) == list(spec.columns)


def test_every_column_has_a_kind():
    for spec in tables.ALL:
        for column in spec.columns:
            assert kind_of(spec, column).name


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2025-03-04", "2025-03-04"),
        ("2025/3/4", "2025-03-04"),
        ("2025.03.4", "2025-03-04"),
        ("20250304", "2025-03-04"),
        ("2025年3月4日", "2025-03-04"),
        ("2025年03月04日", "2025-03-04"),
        ("2025-3-4", "2025-03-04"),
        ("２０２５－０３－０４", "2025-03-04"),  # full-width digits and dash
        (" 2025/12/31 ", "2025-12-31"),
        ("2024/2/29", "2024-02-29"),
    ],
)
def test_dates_in_the_forms_that_occur_become_iso(typed, expected):
    assert value("projects", "contract_signed_on", typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["2025-02-30", "2025/13/1", "20250230", "2023年2月29日", "04/03/2025", "2025-03-04 10:00",
     "2025/3-4", "yesterday", "2025-3-04x"],
)
def test_invalid_or_unknown_dates_are_left_as_typed(typed):
    assert value("projects", "contract_signed_on", typed) == typed


def test_blank_strings_become_none_and_names_keep_inner_spaces():
    row, changes, _ = one("projects", {
        "name": "  某某  小区\u3000工程 ", "permit_no": "   ", "district_code": "１５０２０３",
    })
    assert row["name"] == "某某  小区 工程"
    assert row["permit_no"] is None
    assert row["district_code"] == "150203"
    assert ("district_code", "１５０２０３", "150203", "text") in changes
    assert ("permit_no", "   ", None, "text") in changes


def test_credit_codes_are_upper_cased_but_never_judged():
    row, _, problems = one("projects", {
        "builder": {"name": "甲", "credit_code": " ９１１５０２０３ma0n00000x "},
        "contractor": {"name": "乙", "credit_code": "150203000012345"},
    })
    assert row["builder_credit_code"] == "91150203MA0N00000X"
    assert row["contractor_credit_code"] == "150203000012345"
    assert problems == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1,250,000.00", "1250000.00"),
        ("1250000", "1250000.00"),
        ("12.5", "12.50"),
        ("１２３．４５", "123.45"),
        ("12.500", "12.50"),
        (1250000, "1250000.00"),
        ("-5", "-5.00"),  # canonical, and still negative: validation rejects it
        ("12.345", "12.345"),  # off the fen
        ("1,25.00", "1,25.00"),  # not thousands separators
        ("¥100", "¥100"),
        ("1e3", "1e3"),
    ],
)
def test_money_in_yuan(typed, expected):
    assert value("projects", "contract_amount", typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("123.456789", "1234567.89"),
        ("0.000001", "0.01"),
        ("12.5", "125000.00"),
        ("1,234.5", "12345000.00"),
        ("3", "30000.00"),
        ("99999999.999999", "999999999999.99"),
        ("1.0000001", "1.0000001"),  # a tenth of a fen: left as typed
        ("12.3a", "12.3a"),
        ("一百", "一百"),
    ],
)
def test_devreform_money_is_converted_exactly_from_wan(typed, expected):
    assert value("investment_projects", "total_investment", typed) == expected


def test_wan_conversion_is_a_contract_conversion_not_a_recorded_fix():
    header = "总投资"
    _, plain, _ = one("investment_projects", {header: "12.5"})
    _, fixed, _ = one("investment_projects", {header: "1,234.5"})
    assert plain == []
    assert fixed == [("total_investment", "1,234.5", "12345000.00", "money_wan")]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [(12, "12"), ("12", "12"), ("０１２", "12"), ("1,200", "1200"), ("12.5", "12.5"),
     ("-1", "-1"), (12.0, "12.0")],
)
def test_worker_counts(typed, expected):
    assert value("realname_monthly", "registered_workers", typed) == expected


def test_a_json_integer_count_is_not_a_recorded_change():
    assert one("realname_monthly", {"paid_workers": 7})[1] == []


@pytest.mark.parametrize(
    ("table", "typed", "expected"),
    [
        ("realname_monthly", "2025-03", "2025-03"),
        ("realname_monthly", "2025-3", "2025-03"),
        ("realname_monthly", "2025-13", "2025-13"),
        ("fund_disbursements", "202503", "2025-03"),
        ("fund_disbursements", "２０２５０３", "2025-03"),
        ("fund_disbursements", "202500", "202500"),
    ],
)
def test_months(table, typed, expected):
    assert value(table, "month", typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2025-03-04T10:00:00+08:00", "2025-03-04T10:00:00+08:00"),
        ("2025-03-04T02:00:00Z", "2025-03-04T10:00:00+08:00"),
        ("2025-03-04 18:30:00-00:00", "2025-03-05T02:30:00+08:00"),
        ("2025-03-04T10:00:00.250+08:00", "2025-03-04T10:00:00.250000+08:00"),
        ("2025-03-04T10:00:00", "2025-03-04T10:00:00"),  # no offset: not guessed
        ("last tuesday", "last tuesday"),
    ],
)
def test_updated_at_is_converted_to_shanghai_time(typed, expected):
    assert value("projects", "updated_at", typed) == expected


def test_deleted_is_a_bool_missing_is_none_anything_else_is_a_problem():
    assert one("projects", {"deleted": True})[0]["deleted"] is True
    assert one("projects", {})[0]["deleted"] is None
    row, _, problems = one("projects", {"deleted": "true"})
    assert row["deleted"] is None
    assert problems == [("deleted", "normalise(deleted): not true/false")]


def test_former_names_become_a_json_array_of_trimmed_names():
    row, changes, _ = one("enterprises", {"former_names": [" 甲公司 ", "", "ＡＢＣ有限公司"]})
    assert json.loads(row["former_names"]) == ["甲公司", "ABC有限公司"]
    assert "\\u" not in row["former_names"]
    assert changes[0][0] == "former_names"
    assert one("enterprises", {"former_names": []})[0]["former_names"] == "[]"
    assert one("enterprises", {"former_names": ["甲"]})[1] == []


def test_former_names_that_are_not_a_list_are_a_problem():
    row, _, problems = one("enterprises", {"former_names": "甲;乙"})
    assert row["former_names"] is None
    assert problems == [("former_names", "normalise(former_names): not a list of names")]


def test_unreadable_shapes_are_problems_not_guesses():
    _, _, party = one("projects", {"builder": "甲公司", "contractor": None})
    assert party == [(None, "normalise(builder): not an object")]
    _, _, nested = one("projects", {"name": {"zh": "x"}})
    assert nested == [("name", "normalise(name): dict where a value was expected")]
    out = normalise(tables.PROJECTS, ["not a record"])
    assert out.problems[0][0] == (None, "normalise(record): not an object")
    assert set(out.rows[0].values()) == {None}


def test_devreform_rows_are_read_by_their_chinese_headers():
    row, changes, _ = one("investment_projects", {
        "项目代码": " ２０２５－１５０２０３－４７－０１－０００００１ ",
        "项目名称": "某某 工程",
        "建设地点代码": "150203",
        "项目单位": "甲公司",
        "项目单位统一社会信用代码": "91150203ma0n00000x",
        "是否政府投资": " 是 ",
        "总投资": "1200.5",
        "审批日期": "2025/3/4",
        "项目状态": "在建",
    })
    assert row == {
        "investment_code": "2025-150203-47-01-000001",
        "name": "某某 工程",
        "site_district_code": "150203",
        "owner_name": "甲公司",
        "owner_credit_code": "91150203MA0N00000X",
        "government_invested": "是",
        "total_investment": "12005000.00",
        "approved_on": "2025-03-04",
        "status": "在建",
    }
    assert {c[0] for c in changes} == {
        "investment_code", "owner_credit_code", "government_invested", "approved_on",
    }


def test_investment_codes_are_only_trimmed_here():
    assert value("projects", "investment_code", " 2025 150203 47 01 000001 ") == (
        "2025 150203 47 01 000001"
    )


_TYPED = [None, "", " ", "　", "2026-11-20", "2026/11/20", "2026年11月3日", "２０２６-１１-２０",
          "2026-13-45", "2026-11-20T10:00:00+08:00", "2026-11-20T02:00:00Z", "2026-11-20T10:00",
          "1,234.56", "12.5", "12.50", "-5", "12.345", "1e5", "300", "0.000001", "abc", "ＡＢＣ",
          " x ", "911502", "91150203ma0n00000x", "2026-10", "202610", "是", "否", "true", "ﬁ",
          "٣", 1, 0, -3, 1.0, 1.5, -0.0, True, False, 2**70, [], ["甲", " 乙 "], ["a", 1], {},
          {"name": " 甲 ", "credit_code": "x"}]


def test_a_column_read_at_once_is_each_of_its_values_read_alone():
    """Normalisation reads a column at a time, each distinct value once; what
    it gives is what reading every value on its own gives, in every column,
    for every kind of value, the fixes and problems recorded at the record."""
    rng = random.Random(7)
    for spec in tables.ALL:
        records: list = [rng.choice(["not a record", None]) for _ in range(3)]
        for _ in range(400):
            record: dict = {}
            for field in spec.fields:
                if rng.random() < 0.9:
                    record[field.path[0]] = (rng.choice([{}, {}, None, "甲"])
                                             if len(field.path) > 1 else rng.choice(_TYPED))
            for field in spec.fields:
                party = record.get(field.path[0])
                if len(field.path) > 1 and isinstance(party, dict):
                    party[field.path[1]] = rng.choice(_TYPED)
            records.append(record)
        rng.shuffle(records)
        out = normalise(spec, records)
        for i, record in enumerate(records):
            alone = normalise(spec, [record])
            assert {c: values[i] for c, values in out.columns.items()} == alone.rows[0]
            assert out.changes.get(i, []) == alone.changes.get(0, [])
            assert out.problems.get(i, []) == alone.problems.get(0, [])
            for field in spec.fields:  # and a value alone is its kind's reading of it
                raw = record if isinstance(record, dict) else {}
                for step in field.path:
                    raw = raw.get(step) if isinstance(raw, dict) else None
                assert alone.rows[0][field.name] == kind_of(spec, field.name).read(
                    field.name, raw)[0]
