"""The inspectors' workbook (lists/<district_code>.xlsx) as it is printed and
read: A4 landscape one page wide with the columns needed at a site, the header
row on every page, page numbers, the district and night atop each page, date
cells, the project frozen in sight, a 说明 sheet said from the night's own
parameters, formats and checks; the CSV beside it keeps its columns; and a
workbook filled in by an inspector is read back by the inbox."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pytest
from conftest import write_night_flags
from openpyxl.utils import get_column_letter
from sqlalchemy import text
from wageguard.exports.district_lists import HEADER, DistrictLists
from wageguard.exports.flag_list import (
    Figures,
    OpenFlag,
    Summary,
    TrendNight,
    flag_summary,
    open_flags,
    trends,
)
from wageguard.rules.catalogue import load_rules
from wageguard.rules.disposition_inbox import FILLING_IN, ingest_inbox
from wageguard.rules.dispositions import KIND_ZH, record_disposition
from wageguard.rules.params import load_params
from wageguard.warehouse.night import NightView

D = dt.date(2026, 11, 21)
BUNDLE_DAY = dt.date(2026, 11, 20)
CUTOFF = "2026-11-22T01:02:03.000000+08:00"
DISTRICT = "150202"
# What an inspector needs at a site, in the order printed.
PRINTED = ["序号", "项目编号", "项目名称", "超期", "预警等级", "规则", "缺失事项",
           "施工总承包单位", "首次预警日期", "已持续天数", "处置", "豁免截止日期", "处置理由",
           "处置人"]
# lists/<district_code>.csv's columns as published before the workbook was
# made fit to print: a contract (outputs.md).
CSV_CONTRACT = ["超期", "预警等级", "规则", "问题", "缺失事项", "项目编号", "项目名称",
                "行政区划代码", "施工总承包单位", "总包统一社会信用代码", "建设单位",
                "建设单位统一社会信用代码", "首次预警日期", "已持续天数", "昨日以来", "依据",
                "处置", "豁免截止日期", "处置理由", "处置人", "数据问题"]


def _flag(number: int, rule: str, severity: str, days_open: int, **more) -> OpenFlag:
    return OpenFlag(**{
        "project_id": f"ZJ{DISTRICT}-2025-{number:05d}", "rule": rule, "base_severity": severity,
        "severity": severity, "raised_on": D - dt.timedelta(days=days_open),
        "days_open": days_open, "overdue": False, "new": days_open == 0,
        "district_code": DISTRICT, "project_name": f"东河区第{number}号综合楼建设工程",
        "contractor_name": "包头市某建筑工程有限公司",
        "contractor_credit_code": "91150203MA0N00000X", "builder_name": "某置业有限公司",
        "builder_credit_code": None, "rule_version": "1", "list_order": number, **more})


FLAGS = [
    _flag(1, "WA1", "red", 21, base_severity="orange", overdue=True),
    _flag(2, "WD1", "red", 3, project_name="东河区" + "老旧小区改造配套基础设施" * 4),
    _flag(3, "WD2", "orange", 0, disposition="exempted",
          disposition_until=D - dt.timedelta(days=1), disposition_reason="保函在办"),
    _flag(4, "RN1", "yellow", 2, data_issues=("专户开户银行为空",)),
]


def write_lists(folder, bundle_day=BUNDLE_DAY, escalation_days=20):
    """The district's files from FLAGS, with the escalation a province set."""
    summary = Summary([Figures("district", DISTRICT, "东河区", "150200", "",
                               listed=len(FLAGS), red=2, orange=1, yellow=1)])
    params = {**load_params(), "escalation.days": escalation_days}
    lists = DistrictLists(folder, NightView(D, CUTOFF, bundle_day, False), summary, [],
                          {("district", DISTRICT): [TrendNight(D, 2, 1, 1)]},
                          {r.code: r for r in load_rules()}, params)
    for flag in FLAGS:
        lists.add(flag)
    lists.close()
    return folder / f"{DISTRICT}.xlsx"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return openpyxl.load_workbook(write_lists(tmp_path_factory.mktemp("lists"), None))


@pytest.fixture(scope="module")
def flag_rows(book) -> list[dict]:
    sheet = book["预警清单"]
    return [dict(zip(HEADER, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


def _notes(book) -> dict[str, openpyxl.cell.Cell]:
    """The 说明 sheet's texts by their label."""
    return {label.value: text for label, text in book["说明"].iter_rows(min_row=3, max_col=2)}


def test_the_sheets_in_the_order_an_inspector_reads_them(book):
    assert book.sheetnames == ["汇总", "预警清单", "昨日以来已消除", "说明", "趋势"]
    assert book["汇总"]["A1"].value == "东河区（150202） 欠薪预警清单 2026-11-21"


def test_the_flag_sheet_prints_on_a4_landscape_one_page_wide(book):
    sheet = book["预警清单"]
    setup = sheet.page_setup
    assert (setup.paperSize, setup.orientation) == (9, "landscape")
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), "one page wide, any number tall"
    assert [c.value for c in sheet[1]][:len(PRINTED)] == PRINTED
    last = get_column_letter(len(PRINTED))
    assert sheet.print_area == f"'预警清单'!$A$1:${last}${len(FLAGS) + 1}"
    assert sheet.print_title_rows == "$1:$1", "the header row on every page"
    assert sheet.oddHeader.left.text == "东河区（150202） 欠薪预警清单 2026-11-21"
    assert sheet.oddFooter.center.text == "第 &P 页 / 共 &N 页"
    assert sheet.freeze_panes == "D2"
    assert [c.value for c in sheet[1][:3]] == ["序号", "项目编号", "项目名称"]


def test_every_sheet_prints_on_a4_with_its_page_numbers(book):
    for sheet in book.worksheets:
        assert sheet.page_setup.paperSize == 9, sheet.title
        assert sheet.oddFooter.center.text == "第 &P 页 / 共 &N 页", sheet.title
        assert sheet.oddHeader.left.text.startswith("东河区（150202）"), sheet.title


def test_rows_are_numbered_dated_wrapped_and_as_tall_as_their_text(book, flag_rows):
    assert [r["序号"].value for r in flag_rows] == [1, 2, 3, 4]
    for row, flag in zip(flag_rows, FLAGS, strict=True):
        raised = row["首次预警日期"]
        assert (raised.value, raised.number_format) == (
            dt.datetime.combine(flag.raised_on, dt.time()), "yyyy-mm-dd")
        assert row["区县名称"].value == "东河区"
        assert row["缺失事项"].alignment.wrap_text
    until = flag_rows[2]["豁免截止日期"]
    assert (until.value, until.number_format) == (dt.datetime(2026, 11, 20), "yyyy-mm-dd")
    heights = [book["预警清单"].row_dimensions[r].height for r in range(2, len(FLAGS) + 2)]
    assert heights[1] > heights[0], "the long project name takes more lines"


def test_the_legend_is_in_the_formats_the_rows_are_written_with(book, flag_rows):
    notes = _notes(book)
    labels = {cell.value: cell for cell, _ in book["说明"].iter_rows(min_row=3, max_col=2)}
    for row in flag_rows:
        level = row["预警等级"].value
        assert labels[level].fill.fgColor.rgb == row["项目编号"].fill.fgColor.rgb
        assert notes[level].fill.fgColor.rgb == row["缺失事项"].fill.fgColor.rgb
    mark, overdue = labels["超期 是"], flag_rows[0]["超期"]
    assert overdue.value == "是"
    assert (mark.font.b, mark.font.color.rgb, mark.fill.fgColor.rgb) == (
        overdue.font.b, overdue.font.color.rgb, overdue.fill.fgColor.rgb)
    assert not flag_rows[1]["超期"].font.b


def test_the_notes_say_the_nights_escalation_cutoff_and_how_to_fill_in(book):
    notes = {label: cell.value for label, cell in _notes(book).items()}
    assert "超过 20 天" in notes["超期 是"] and "须在 20 天内办结" in notes["督办时限"]
    assert notes["数据截至"].startswith("2026-11-22 01:02（北京时间）")
    assert "、".join(KIND_ZH.values()) in notes["处置"]
    for kind, zh in KIND_ZH.items():
        assert notes[zh] == FILLING_IN[kind]
    assert notes["发改数据"] == "本夜没有完整的发改数据包。"
    assert "该规则未评估" in notes["本夜未评估：GI1"]
    assert [n for n in notes if n.startswith("本夜未评估")] == ["本夜未评估：GI1"]
    assert "GI1 政府投资项目人工费用未按月拨付（本夜未评估）" in [
        c.value for c in book["汇总"]["A"]]


def test_a_night_with_its_bundle_evaluates_every_rule(tmp_path):
    book = openpyxl.load_workbook(write_lists(tmp_path))
    notes = {label: cell.value for label, cell in _notes(book).items()}
    assert notes["发改数据"] == "取自 2026-11-20 的发改数据包。"
    assert not [n for n in notes if n.startswith("本夜未评估")]
    assert "（本夜未评估）" not in "".join(str(c.value) for c in book["汇总"]["A"])


def test_the_csv_keeps_its_columns_and_holds_the_sheets_rows(tmp_path, flag_rows):
    write_lists(tmp_path, None)
    with (tmp_path / f"{DISTRICT}.csv").open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == CSV_CONTRACT
        listed = list(reader)
    assert len(listed) == len(flag_rows)
    for line, row in zip(listed, flag_rows, strict=True):
        for header in CSV_CONTRACT:
            value = row[header].value
            shown = value.date().isoformat() if isinstance(value, dt.datetime) else value
            assert line[header] == ("" if shown is None else str(shown)), header


# The inbox reads a workbook an inspector filled in ----------------------------

def _published(engine, flags: list[tuple[str, str, str, dt.date]]) -> None:
    """Night D published with flags (project, rule, base severity, raised on)
    of projects in the district."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO night (run_date, knowledge_cutoff, bundle_day, params, "
                          "first_published_at, last_published_at) "
                          "VALUES (:d, :c, :b, '{}', 't', 't')"),
                     {"d": D, "c": CUTOFF, "b": BUNDLE_DAY})
        for project in sorted({f[0] for f in flags}):
            conn.execute(text("INSERT INTO night_project (run_date, project_id, payload_hash, "
                              "district_code, active) VALUES (:d, :p, 'h', :district, 1)"),
                         {"d": D, "p": project, "district": DISTRICT})
        write_night_flags(conn, D, [(p, r, s, raised, "1", "{}", DISTRICT, f"{p}工程")
                                    for p, r, s, raised in flags])


def test_the_inbox_reads_back_a_workbook_filled_in_by_an_inspector(engine, tmp_path):
    _published(engine, [("P1", "WA1", "orange", D - dt.timedelta(days=30)),
                        ("P2", "WD1", "red", D), ("P3", "RN1", "yellow", D)])
    with engine.begin() as conn:
        record_disposition(conn, project_id="P3", rule="RN1", kind="verified", until=None,
                           reason=None, inspector="王监察", today=D)
    params = load_params()
    with engine.connect() as conn:
        lists = DistrictLists(tmp_path / "lists", NightView(D, CUTOFF, BUNDLE_DAY, True),
                              flag_summary(conn, D, None, params), [], trends(conn, D),
                              {r.code: r for r in load_rules()}, params)
        for flag in open_flags(conn, D, None, params):
            lists.add(flag)
        lists.close()
    book = openpyxl.load_workbook(tmp_path / "lists" / f"{DISTRICT}.xlsx")
    sheet = book["预警清单"]
    column = {cell.value: cell.column for cell in sheet[1]}
    rows = {sheet.cell(r, column["项目编号"]).value: r for r in range(2, sheet.max_row + 1)}
    assert list(rows) == ["P1", "P2", "P3"], "overdue first, then by severity"
    assert sheet.cell(rows["P3"], column["处置"]).value == "核实"
    filled = {
        "P1": {"处置": "豁免", "豁免截止日期": dt.datetime(2026, 12, 31), "处置理由": "停工待复工",
               "处置人": "李监察"},
        "P2": {"处置": "误报", "处置理由": "保证金已存储，数据未同步"},
    }
    for project, cells in filled.items():
        for header, value in cells.items():
            sheet.cell(rows[project], column[header]).value = value
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    book.save(inbox / f"{DISTRICT}.xlsx")

    report = ingest_inbox(engine, inbox, today=D)
    assert (report.processed, report.rejected) == ([f"{DISTRICT}.xlsx"], [])
    assert (report.recorded, report.unchanged) == (2, 1), "P3's 核实 came back as exported"
    with engine.connect() as conn:
        found = {(f.project_id, f.status, f.disposition, f.disposition_until,
                  f.disposition_reason, f.disposition_inspector)
                 for f in open_flags(conn, D, None, params)}
    assert found == {
        ("P1", "exempted", "exempted", dt.date(2026, 12, 31), "停工待复工", "李监察"),
        ("P2", "false_positive", "false_positive", None, "保证金已存储，数据未同步", None),
        ("P3", "open", "verified", None, None, "王监察"),
    }


def test_lists_refuse_flags_that_are_not_given_district_by_district(tmp_path):
    """A list is written when its district's flags end: flags given in any
    other order than the mart's would leave a list short, so they are refused."""
    summary = Summary([Figures("district", DISTRICT, "东河区", "150200", "")])
    view = NightView(D, CUTOFF, BUNDLE_DAY, False)
    rules = {r.code: r for r in load_rules()}

    def lists():
        return DistrictLists(tmp_path, view, summary, [], {}, rules, load_params())

    apart = lists()
    apart.add(_flag(1, "WA1", "red", 30))
    apart.add(_flag(2, "WA1", "red", 30, district_code="150203"))
    with pytest.raises(ValueError, match="150202 come apart"):
        apart.add(_flag(3, "WA1", "red", 30))
    unordered = lists()
    unordered.add(_flag(2, "WA1", "red", 30))
    with pytest.raises(ValueError, match="out of list order"):
        unordered.add(_flag(1, "WA1", "red", 30))


def test_the_board_lists_the_first_overdue_red_flags_of_each_area(tmp_path):
    """Gathered as the flags go by, in any order: per area the first
    OVERDUE_RED_SHOWN by list order and the count of them all."""
    import random

    from wageguard.exports.dashboard import OVERDUE_RED_SHOWN, OverdueRed

    red = [_flag(n, "WA1", "red", 30, overdue=True, overdue_red=True, district_code=district)
           for n, district in zip(range(1, 3 * OVERDUE_RED_SHOWN + 1),
                                  ["150202", "150203", "150204"] * OVERDUE_RED_SHOWN,
                                  strict=True)]
    others = [_flag(1000, "WA1", "orange", 30, overdue=True),
              _flag(1001, "WA1", "red", 3),
              _flag(1002, "WA1", "red", 30, overdue=True, status="exempted")]
    gathered = OverdueRed()
    for flag in random.Random(7).sample(red + others, len(red) + len(others)):
        gathered.add(flag)

    first, total = gathered.of(["150202"])
    assert total == OVERDUE_RED_SHOWN
    assert [f.list_order for f in first] == list(range(1, 3 * OVERDUE_RED_SHOWN, 3))
    first, total = gathered.of(["150202", "150203"])
    assert total == 2 * OVERDUE_RED_SHOWN
    assert [f.list_order for f in first] == [
        n for n in range(1, 3 * OVERDUE_RED_SHOWN + 1) if n % 3 != 0][:OVERDUE_RED_SHOWN]
    first, total = gathered.of(None)
    assert total == 3 * OVERDUE_RED_SHOWN
    assert [f.list_order for f in first] == list(range(1, OVERDUE_RED_SHOWN + 1))
    assert gathered.of(["150999"]) == ([], 0)
