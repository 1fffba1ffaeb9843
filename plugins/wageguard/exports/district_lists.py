"""Each district's morning list: lists/<district_code>.xlsx for inspectors and
lists/<district_code>.csv (same rows as the workbook's flag sheet) for their
other tools. A district's files hold only that district's projects.

Names and other text from the sources can read like a formula (=HYPERLINK(...),
+1, @SUM(1)): the workbook holds them as text cells and the CSV leads them with
' (exports/files.py), so opening a list never runs anything.

The workbook is also how inspectors answer: they fill in the disposition
columns of the flag sheet and drop it into the inbox (rules/disposition_inbox.py)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from wageguard.exports.files import write_csv
from wageguard.exports.flag_list import ZH_LEVEL, Figures, OpenFlag, ResolvedFlag, Summary, Trend
from wageguard.rules.catalogue import Rule
from wageguard.rules.dispositions import KIND_ZH

# The flag sheet's columns and their widths, side by side so they cannot drift.
COLUMNS = (
    ("超期", 6), ("预警等级", 8), ("规则", 6), ("问题", 26), ("缺失事项", 40),
    ("项目编号", 22), ("项目名称", 30), ("行政区划代码", 12), ("施工总承包单位", 30),
    ("总包统一社会信用代码", 22), ("建设单位", 30), ("建设单位统一社会信用代码", 22),
    ("首次预警日期", 12), ("已持续天数", 10), ("昨日以来", 8), ("依据", 60),
    ("处置", 8), ("豁免截止日期", 14), ("处置理由", 24), ("处置人", 10), ("数据问题", 30),
)
HEADER = [name for name, _ in COLUMNS]
UNRESOLVED = "(未能核实)"
NOT_FILED = "（未填报）"  # a name the source left blank: the cell is not empty by mistake
RESOLVED_HEADER = ["项目编号", "项目名称", "规则", "问题", "首次预警日期"]
TREND_NIGHTS = 30
TREND_SHEET = "趋势"


def _row(flag: OpenFlag, rules: dict[str, Rule], params: dict) -> list:
    rule = rules[flag.rule]
    return [
        "是" if flag.overdue else "否",
        ZH_LEVEL[flag.severity],
        flag.rule,
        rule.title,
        rule.missing_text(params),
        flag.project_id,
        flag.project_name or NOT_FILED,
        flag.district_code,
        flag.contractor_name or NOT_FILED,
        flag.contractor_credit_code or UNRESOLVED,
        flag.builder_name or NOT_FILED,
        flag.builder_credit_code or UNRESOLVED,
        flag.raised_on.isoformat(),
        flag.days_open,
        "新增" if flag.new else "持续",
        rule.basis,
        KIND_ZH.get(flag.disposition, ""),
        flag.disposition_until.isoformat() if flag.disposition_until else "",
        flag.disposition_reason or "",
        flag.disposition_inspector or "",
        "；".join(flag.data_issues),
    ]


def write_district_lists(
    folder: Path,
    run_date: dt.date,
    summary: Summary,
    flags: list[OpenFlag],
    resolved: list[ResolvedFlag],
    trends: dict[str, Trend],
    rules: dict[str, Rule],
    params: dict,
) -> dict[str, int]:
    """A workbook and a CSV for every district of the summary, flagged or not:
    an empty list tells the inspector there is nothing to chase. Exempted and
    false-positive flags are left off. Returns the rows listed per district."""
    folder.mkdir(parents=True, exist_ok=True)
    by_district: dict[str | None, list[OpenFlag]] = defaultdict(list)
    for flag in sorted(flags, key=lambda f: f.list_order):
        if flag.listed:
            by_district[flag.district_code].append(flag)
    resolved_by: dict[str | None, list[ResolvedFlag]] = defaultdict(list)
    for item in resolved:
        resolved_by[item.district_code].append(item)
    written = {}
    for figures in summary.areas("district"):
        district = figures.area_code
        listed = by_district[district]
        rows = [_row(f, rules, params) for f in listed]
        write_csv(folder / f"{district}.csv", HEADER, rows, bom=True, for_spreadsheets=True)
        trend = trends.get(district, Trend([], {}))
        _workbook(folder / f"{district}.xlsx", summary, figures, run_date, listed, rows,
                  resolved_by[district], trend, rules)
        written[district] = len(rows)
    return written


def _workbook(path: Path, summary: Summary, district: Figures, run_date: dt.date,
              flags: list[OpenFlag], rows: list[list], resolved: list[ResolvedFlag],
              trend: Trend, rules: dict[str, Rule]) -> None:
    import xlsxwriter  # the export task pays for it, not DAG parsing

    # Text goes in with write_string (_write_cells); these options also keep
    # any write() that guesses a type from making a formula or a number of it.
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_numbers": False})
    # Dated by the night, not the clock, so a re-run writes the same bytes.
    book.set_properties({"created": dt.datetime.combine(run_date, dt.time())})
    styles = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "head": book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1,
                                 "text_wrap": True, "valign": "vcenter"}),
        "red": book.add_format({"bg_color": "#F8CBAD", "border": 1}),
        "orange": book.add_format({"bg_color": "#FCE4D6", "border": 1}),
        "yellow": book.add_format({"bg_color": "#FFF2CC", "border": 1}),
        "overdue": book.add_format({"bg_color": "#F8CBAD", "border": 1, "bold": True,
                                    "font_color": "#C00000"}),
    }
    sheet, chart_row = _summary_sheet(book, styles, summary, district, run_date, rules)
    _flag_sheet(book, styles, flags, rows)
    _resolved_sheet(book, styles, resolved, rules)
    _trend_chart(book, sheet, chart_row, trend)
    book.close()


def _write_cells(sheet, row: int, col: int, values: list, style=None) -> None:
    """Text as text cells whatever it starts with, the numbers we count as
    numbers; an empty value leaves the cell blank."""
    for offset, value in enumerate(values, start=col):
        if value is None or value == "":
            sheet.write_blank(row, offset, None, style)
        elif isinstance(value, str):
            sheet.write_string(row, offset, value, style)
        else:
            sheet.write_number(row, offset, value, style)


def _summary_sheet(book, styles, summary: Summary, district: Figures, run_date: dt.date,
                   rules: dict[str, Rule]):
    """Returns the sheet and the row where the trend chart goes."""
    sheet = book.add_worksheet("汇总")
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 4, 9)
    sheet.write_string(0, 0, f"{district.area_code} 欠薪预警清单 {run_date.isoformat()}",
                       styles["title"])
    _write_cells(sheet, 2, 0, ["规则", "红", "橙", "黄", "合计"], styles["head"])
    line = 3
    for code, rule in rules.items():
        per = summary.of("district", district.area_code, code)
        _write_cells(sheet, line, 0, [f"{code} {rule.title}", per.red, per.orange, per.yellow,
                                      per.listed])
        line += 1
    _write_cells(sheet, line, 0, ["合计", district.red, district.orange, district.yellow,
                                  district.listed], styles["head"])
    line += 2
    for label, value in (
        ("在办预警", district.listed),
        ("昨日以来新增", district.new),
        ("昨日以来已消除", district.resolved),
        ("超期(超过督办时限)", district.overdue),
        ("其中超期红色预警", district.overdue_red),
    ):
        _write_cells(sheet, line, 0, [label, value])
        line += 1
    sheet.set_portrait()
    sheet.fit_to_pages(1, 1)
    return sheet, line + 1


def _trend_chart(book, summary, top: int, trend: Trend) -> None:
    """Open flags over the last nights, stacked by severity. The chart reads a
    data sheet of its own, so it is a native chart that stays live in Excel."""
    data = book.add_worksheet(TREND_SHEET)
    _write_cells(data, 0, 0, ["夜间", "红", "橙", "黄"])
    for i, night in enumerate(trend.nights, start=1):
        _write_cells(data, i, 0, [night.isoformat(),
                                  *[trend.counts.get((night, lv), 0)
                                    for lv in ("red", "orange", "yellow")]])
    data.set_column(0, 0, 12)
    if not trend.nights:
        return
    chart = book.add_chart({"type": "column", "subtype": "stacked"})
    colours = {"red": "#C00000", "orange": "#ED7D31", "yellow": "#FFC000"}
    last = len(trend.nights)
    for col, level in enumerate(("red", "orange", "yellow"), start=1):
        chart.add_series({
            "name": [TREND_SHEET, 0, col],
            "categories": [TREND_SHEET, 1, 0, last, 0],
            "values": [TREND_SHEET, 1, col, last, col],
            "fill": {"color": colours[level]},
            "gap": 40,
        })
    chart.set_title({"name": f"近{TREND_NIGHTS}夜在办预警"})
    chart.set_x_axis({"num_font": {"rotation": -45}})
    chart.set_y_axis({"name": "预警数", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 300})
    summary.insert_chart(top, 0, chart)


def _flag_sheet(book, styles, flags: list[OpenFlag], rows: list[list]) -> None:
    sheet = book.add_worksheet("预警清单")
    sheet.set_row(0, 30)
    _write_cells(sheet, 0, 0, HEADER, styles["head"])
    for i, (flag, row) in enumerate(zip(flags, rows), start=1):
        _write_cells(sheet, i, 0, row, styles[flag.severity])
        if flag.overdue:
            sheet.write_string(i, 0, row[0], styles["overdue"])
    for col, (_, width) in enumerate(COLUMNS):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    # Printed: A3 landscape, one page wide, the header on every page.
    sheet.set_paper(8)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    last = max(len(rows), 1)
    sheet.autofilter(0, 0, last, len(HEADER) - 1)
    first_input = HEADER.index("处置")
    sheet.data_validation(1, first_input, max(last, 500), first_input, {
        "validate": "list", "source": list(KIND_ZH.values()),
        "input_title": "处置", "input_message": "核实 / 豁免(填截止日期和理由) / 误报(填理由)",
    })


def _resolved_sheet(book, styles, resolved: list[ResolvedFlag],
                    rules: dict[str, Rule]) -> None:
    sheet = book.add_worksheet("昨日以来已消除")
    _write_cells(sheet, 0, 0, RESOLVED_HEADER, styles["head"])
    for i, item in enumerate(resolved, start=1):
        rule = rules.get(item.rule)
        _write_cells(sheet, i, 0, [item.project_id, item.project_name or NOT_FILED, item.rule,
                                   rule.title if rule else "", item.raised_on.isoformat()])
    sheet.set_column(0, 1, 28)
    sheet.set_column(2, 4, 14)
    sheet.freeze_panes(1, 0)
