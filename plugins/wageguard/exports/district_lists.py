"""Each district's morning list: lists/<district_code>.xlsx for inspectors and
lists/<district_code>.csv (same rows as the workbook's flag sheet) for their
other tools. A district's files hold only that district's projects.

The workbook's sheets: 汇总 (the district's figures and the trend chart),
预警清单 (one row per flag, printed on A4 landscape with the columns needed at
a site), 昨日以来已消除, 说明 (the colours, the escalation, how to fill in 处置,
the night's data cutoff and any rule not evaluated tonight) and 趋势 (the
chart's data).

Names and other text from the sources can read like a formula (=HYPERLINK(...),
+1, @SUM(1)): the workbook holds them as text cells and the CSV leads them with
' (exports/files.py), so opening a list never runs anything.

The workbook is also how inspectors answer: they fill in the disposition
columns of the flag sheet and drop it into the inbox (rules/disposition_inbox.py),
which finds its columns by their headers in row 1."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from wageguard.db.sqlfiles import read_sql, used_params
from wageguard.exports.files import write_csv
from wageguard.exports.flag_list import (
    CHART_COLOURS,
    TREND_NIGHTS,
    ZH_LEVEL,
    Figures,
    OpenFlag,
    ResolvedFlag,
    Summary,
    TrendNight,
    Trends,
)
from wageguard.plan import TIMEZONE
from wageguard.rules.catalogue import Rule
from wageguard.rules.disposition_inbox import FILLING_IN
from wageguard.rules.disposition_inbox import SHEET as FLAG_SHEET
from wageguard.rules.dispositions import KIND_ZH
from wageguard.warehouse.night import NightView


@dataclass(frozen=True)
class Column:
    header: str
    width: float  # in Excel's widths of a digit
    kind: str = "text"  # text | wrap (long text, wrapped) | date | number


# The flag sheet's columns in their order. What an inspector needs at a site
# comes first, since a print area is one block of columns: the project, the
# flag and what is missing, the contractor to ask for it, how long it has been
# open, and the 处置 columns to fill in by hand; that prints on A4 landscape.
# The rest is for the office screen: 问题 (what 缺失事项 says at more length),
# new or not, the district, the credit codes, the builder, the legal basis and
# the data problems. Only printed columns wrap: a row is as tall as its
# tallest cell, and a wrapped basis nobody prints would stretch every printed row.
ON_SITE = (
    Column("序号", 4.5, "number"),
    Column("项目编号", 18),
    Column("项目名称", 17, "wrap"),
    Column("超期", 4.5),
    Column("预警等级", 4.5),
    Column("规则", 5.5),
    Column("缺失事项", 32, "wrap"),
    Column("施工总承包单位", 16, "wrap"),
    Column("首次预警日期", 10.5, "date"),
    Column("已持续天数", 6, "number"),
    Column("处置", 6),
    Column("豁免截止日期", 10.5, "date"),
    Column("处置理由", 13, "wrap"),
    Column("处置人", 7),
)
IN_OFFICE = (
    Column("问题", 26), Column("昨日以来", 8), Column("行政区划代码", 12), Column("区县名称", 12),
    Column("总包统一社会信用代码", 22), Column("建设单位", 30),
    Column("建设单位统一社会信用代码", 22), Column("依据", 60), Column("数据问题", 30),
)
COLUMNS = ON_SITE + IN_OFFICE
HEADER = [column.header for column in COLUMNS]
# lists/<district_code>.csv's columns, a contract (outputs.md): a column may be
# added at the end, never renamed, dropped or moved. The CSV feeds tools, not
# printers: 序号 is its line number and the district name is the roster's.
CSV_HEADER = [
    "超期", "预警等级", "规则", "问题", "缺失事项", "项目编号", "项目名称", "行政区划代码",
    "施工总承包单位", "总包统一社会信用代码", "建设单位", "建设单位统一社会信用代码",
    "首次预警日期", "已持续天数", "昨日以来", "依据", "处置", "豁免截止日期", "处置理由",
    "处置人", "数据问题",
]
UNRESOLVED = "(未能核实)"
NOT_FILED = "（未填报）"  # a name the source left blank: the cell is not empty by mistake
RESOLVED_HEADER = ["项目编号", "项目名称", "规则", "问题", "首次预警日期"]
SUMMARY_SHEET = "汇总"
RESOLVED_SHEET = "昨日以来已消除"
NOTES_SHEET = "说明"
TREND_SHEET = "趋势"
DATE_FORMAT = "yyyy-mm-dd"
A4 = 9  # Excel's paper size code
# The flag rows' fills by severity and the mark of an overdue flag: the flag
# sheet and the legend of the 说明 sheet are written with the same formats.
FILLS = {"red": "#FFC7CE", "orange": "#FCD5B4", "yellow": "#FFF2CC"}
OVERDUE_MARK = {"bold": True, "font_color": "#C00000"}
LEVEL_MEANING = {"red": "须立即处置", "orange": "须尽快处置", "yellow": "须关注"}
FONT_POINTS = 10
_CELL = {"border": 1, "valign": "top", "font_size": FONT_POINTS}
_KINDS: dict[str, dict] = {
    "text": {}, "number": {}, "wrap": {"text_wrap": True},
    "date": {"num_format": DATE_FORMAT, "align": "left"}, "overdue": OVERDUE_MARK,
}


def _values(number: int, flag: OpenFlag, rule: Rule, params: dict,
            district_name: str | None) -> dict[str, Any]:
    """A flag's row by column header, dates as dates."""
    return {
        "序号": number,
        "项目编号": flag.project_id,
        "项目名称": flag.project_name or NOT_FILED,
        "超期": "是" if flag.overdue else "否",
        "预警等级": ZH_LEVEL[flag.severity],
        "规则": flag.rule,
        "问题": rule.title,
        "缺失事项": rule.missing_text(params),
        "施工总承包单位": flag.contractor_name or NOT_FILED,
        "首次预警日期": flag.raised_on,
        "已持续天数": flag.days_open,
        "处置": KIND_ZH.get(flag.disposition, ""),
        "豁免截止日期": flag.disposition_until,
        "处置理由": flag.disposition_reason or "",
        "处置人": flag.disposition_inspector or "",
        "昨日以来": "新增" if flag.new else "持续",
        "行政区划代码": flag.district_code,
        "区县名称": district_name or "",
        "总包统一社会信用代码": flag.contractor_credit_code or UNRESOLVED,
        "建设单位": flag.builder_name or NOT_FILED,
        "建设单位统一社会信用代码": flag.builder_credit_code or UNRESOLVED,
        "依据": rule.basis,
        "数据问题": "；".join(flag.data_issues),
    }


def _csv_row(values: dict[str, Any]) -> list:
    return [v.isoformat() if isinstance(v, dt.date) else v
            for v in (values[h] for h in CSV_HEADER)]


def _not_evaluated(rules: dict[str, Rule], view: NightView) -> list[Rule]:
    """The rules a night without a complete dev-reform bundle cannot evaluate:
    those whose SQL reads the bundle (:bundle_day), GI1 among them."""
    if view.bundle_day is not None:
        return []
    return [rule for rule in rules.values()
            if used_params(read_sql(rule.sql), {"bundle_day": None})]


class DistrictLists:
    """A workbook and a CSV for every district of the summary, flagged or not:
    an empty list tells the inspector there is nothing to chase. Flags are
    `add`ed as sql/marts/open_flags.sql gives them, district by district, each
    district's in list order; a district's files are written when its flags
    end, so a province's lists are never held whole. Exempted and
    false-positive flags are left off."""

    def __init__(self, folder: Path, view: NightView, summary: Summary,
                 resolved: list[ResolvedFlag], trends: Trends, rules: dict[str, Rule],
                 params: dict) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._districts: dict[str | None, Figures] = {
            figures.area_code: figures for figures in summary.areas("district")}
        self._summary = summary
        self._resolved: dict[str | None, list[ResolvedFlag]] = defaultdict(list)
        for item in resolved:
            self._resolved[item.district_code].append(item)
        self._trends = trends
        self._night = _Night(view, params, rules, _not_evaluated(rules, view))
        self._seen: set[str | None] = set()
        self._district: str | None = None
        self._listed: list[OpenFlag] = []
        self._written: dict[str, int] = {}

    def add(self, flag: OpenFlag) -> None:
        if flag.district_code != self._district or not self._seen:
            self._end_district()
            if flag.district_code in self._seen:
                raise ValueError(f"the flags of district {flag.district_code} come apart: "
                                 "lists are written from flags given district by district")
            self._seen.add(flag.district_code)
            self._district = flag.district_code
        if flag.listed:
            if self._listed and flag.list_order < self._listed[-1].list_order:
                raise ValueError(f"flag {flag.project_id} {flag.rule} comes out of list order")
            self._listed.append(flag)

    def close(self) -> dict[str, int]:
        """Writes the districts without flags; returns the rows listed per
        district, in district order."""
        self._end_district()
        for code, figures in self._districts.items():
            if code not in self._written:
                self._write(figures, [])
        return {figures.area_code: self._written[figures.area_code]
                for figures in self._districts.values()}

    def _end_district(self) -> None:
        figures = self._districts.get(self._district)
        if figures is not None:
            self._write(figures, self._listed)
        self._listed = []

    def _write(self, figures: Figures, listed: list[OpenFlag]) -> None:
        district = figures.area_code
        rules, params = self._night.rules, self._night.params

        def rows() -> Iterator[dict[str, Any]]:
            # Made again for each file rather than held: a district of a large
            # province lists thousands of flags.
            return (_values(n, f, rules[f.rule], params, figures.area_name)
                    for n, f in enumerate(listed, start=1))

        write_csv(self._folder / f"{district}.csv", CSV_HEADER, map(_csv_row, rows()),
                  bom=True, for_spreadsheets=True)
        _workbook(self._folder / f"{district}.xlsx", self._night, self._summary, figures,
                  listed, rows(), self._resolved[district],
                  self._trends.get(("district", district), []))
        self._written[district] = len(listed)


@dataclass(frozen=True)
class _Night:
    """What every workbook of the night says alike."""

    view: NightView
    params: dict
    rules: dict[str, Rule]
    not_evaluated: list[Rule]

    @property
    def cutoff(self) -> str:
        """The knowledge cutoff, a warehouse timestamp, as an inspector reads it."""
        moment = dt.datetime.fromisoformat(self.view.knowledge_cutoff)
        return f"{moment.astimezone(ZoneInfo(TIMEZONE)):%Y-%m-%d %H:%M}（北京时间）"


def _title(district: Figures, night: dt.date) -> str:
    name = f"{district.area_name}（{district.area_code}）" if district.area_name \
        else district.area_code
    return f"{name} 欠薪预警清单 {night.isoformat()}"


def _workbook(path: Path, night: _Night, summary: Summary, district: Figures,
              flags: list[OpenFlag], rows: Iterable[dict[str, Any]],
              resolved: list[ResolvedFlag],
              trend: list[TrendNight]) -> None:
    import xlsxwriter  # the export task pays for it, not DAG parsing

    # Text goes in with write_string (_write); these options also keep any
    # write() that guesses a type from making a formula or a number of it.
    # constant_memory writes each row out when the next begins, so a district
    # of 26,000 flags costs no more memory than one of 100 (held whole, its
    # cells took some 80 MB); its strings are written inline, so the file is
    # about a fifth larger and takes about a tenth longer. Rows must come in
    # order, and a row's height is set before the next row is written.
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False,
                                           "strings_to_numbers": False,
                                           "constant_memory": True})
    # Dated by the night, not the clock, so a re-run writes the same bytes.
    book.set_properties({"created": dt.datetime.combine(night.view.run_date, dt.time())})
    formats = _formats(book)
    title = _title(district, night.view.run_date)
    sheet, chart_row = _summary_sheet(book, formats, title, night, summary, district)
    _flag_sheet(book, formats, title, night.view.run_date, flags, rows)
    _resolved_sheet(book, formats, title, resolved, night.rules)
    _notes_sheet(book, formats, title, night)
    _trend_chart(book, title, sheet, chart_row, trend)
    book.close()


def _formats(book) -> dict[Any, Any]:
    """The workbook's formats by name; a flag row's cells by (severity, kind),
    kind being a column's or 'overdue' for the mark of an overdue flag."""
    formats: dict[Any, Any] = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "head": book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1,
                                 "text_wrap": True, "valign": "vcenter", "align": "center",
                                 "font_size": 10}),
        "cell": book.add_format(_CELL),
        "date": book.add_format({**_CELL, **_KINDS["date"]}),
        "label": book.add_format({**_CELL, "bold": True, "text_wrap": True}),
        "note": book.add_format({**_CELL, "text_wrap": True}),
    }
    for level, fill in FILLS.items():
        for kind, properties in _KINDS.items():
            formats[(level, kind)] = book.add_format({**_CELL, "bg_color": fill, **properties})
    return formats


def _write(sheet, row: int, col: int, value, style=None) -> None:
    """Text as a text cell whatever it starts with, a date as a date cell,
    the numbers we count as numbers; an empty value leaves the cell blank."""
    if value is None or value == "":
        sheet.write_blank(row, col, None, style)
    elif isinstance(value, str):
        sheet.write_string(row, col, value, style)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), style)
    else:
        sheet.write_number(row, col, value, style)


def _write_cells(sheet, row: int, col: int, values: list, style=None) -> None:
    for offset, value in enumerate(values, start=col):
        _write(sheet, row, offset, value, style)


def _lines(text: str, width: float) -> int:
    """About how many lines `text` takes wrapped in a column `width` digits
    wide: in 10-point type a Chinese character is about 1.9 digits wide,
    other characters about 0.9."""
    lines, room = 0, width - 0.5
    for part in text.split("\n"):
        lines, used = lines + 1, 0.0
        for char in part:
            size = 1.9 if unicodedata.east_asian_width(char) in ("W", "F") else 0.9
            if used and used + size > room:
                lines, used = lines + 1, 0.0
            used += size
    return lines


def _fit_height(sheet, row: int, cells: list[tuple[str, float]]) -> None:
    """Sets the row as tall as its longest wrapped text (text, column width):
    neither Excel nor LibreOffice sizes rows of a written file by their text."""
    lines = max((_lines(text, width) for text, width in cells if text), default=1)
    sheet.set_row(row, math.ceil(lines * FONT_POINTS * 1.35) + 3)


def _print_setup(sheet, title: str, *, landscape: bool) -> None:
    """A4, one page wide; the list and its night atop every page, the sheet's
    name beside them, the page number at the foot."""
    sheet.set_paper(A4)
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.3, right=0.3, top=0.6, bottom=0.6)
    # & starts a code in Excel's page headers; && is a literal one.
    sheet.set_header(f"&L{title.replace('&', '&&')}&R&A", {"margin": 0.25})
    sheet.set_footer("&C第 &P 页 / 共 &N 页", {"margin": 0.25})


def _summary_sheet(book, formats, title: str, night: _Night, summary: Summary,
                   district: Figures):
    """Returns the sheet and the row where the trend chart goes."""
    sheet = book.add_worksheet(SUMMARY_SHEET)
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 4, 9)
    sheet.write_string(0, 0, title, formats["title"])
    sheet.write_string(
        1, 0, f"数据截至 {night.cutoff}；颜色、督办时限和处置的填法见“{NOTES_SHEET}”表")
    _write_cells(sheet, 3, 0, ["规则", "红", "橙", "黄", "合计"], formats["head"])
    line = 4
    skipped = {rule.code for rule in night.not_evaluated}
    for code, rule in night.rules.items():
        if code in skipped:
            _write_cells(sheet, line, 0, [f"{code} {rule.title}（本夜未评估）"])
        else:
            per = summary.of("district", district.area_code, code)
            _write_cells(sheet, line, 0, [f"{code} {rule.title}", per.red, per.orange,
                                          per.yellow, per.listed])
        line += 1
    _write_cells(sheet, line, 0, ["合计", district.red, district.orange, district.yellow,
                                  district.listed], formats["head"])
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
    _print_setup(sheet, title, landscape=False)
    return sheet, line + 1


def _trend_chart(book, title: str, summary, top: int, trend: list[TrendNight]) -> None:
    """Open flags over the last nights, stacked by severity. The chart reads a
    data sheet of its own, so it is a native chart that stays live in Excel."""
    data = book.add_worksheet(TREND_SHEET)
    _write_cells(data, 0, 0, ["夜间", "红", "橙", "黄"])
    for i, night in enumerate(trend, start=1):
        # The night as text: each night a category of the chart's axis, where
        # dates would make Excel draw a time axis with gaps for nights not run.
        _write_cells(data, i, 0, [night.night.isoformat(), night.red, night.orange,
                                  night.yellow])
    data.set_column(0, 0, 12)
    _print_setup(data, title, landscape=False)
    if not trend:
        return
    chart = book.add_chart({"type": "column", "subtype": "stacked"})
    last = len(trend)
    for col, level in enumerate(("red", "orange", "yellow"), start=1):
        chart.add_series({
            "name": [TREND_SHEET, 0, col],
            "categories": [TREND_SHEET, 1, 0, last, 0],
            "values": [TREND_SHEET, 1, col, last, col],
            "fill": {"color": CHART_COLOURS[level]},
            "gap": 40,
        })
    chart.set_title({"name": f"近{TREND_NIGHTS}夜在办预警"})
    chart.set_x_axis({"num_font": {"rotation": -45}})
    chart.set_y_axis({"name": "预警数", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 300})
    summary.insert_chart(top, 0, chart)


def _flag_sheet(book, formats, title: str, run_date: dt.date, flags: list[OpenFlag],
                rows: Iterable[dict[str, Any]]) -> None:
    sheet = book.add_worksheet(FLAG_SHEET)
    _write_cells(sheet, 0, 0, HEADER, formats["head"])
    _fit_height(sheet, 0, [(column.header, column.width) for column in ON_SITE])
    wrapped = [column for column in ON_SITE if column.kind == "wrap"]
    for i, (flag, values) in enumerate(zip(flags, rows, strict=True), start=1):
        for col, column in enumerate(COLUMNS):
            kind = "overdue" if column.header == "超期" and flag.overdue else column.kind
            _write(sheet, i, col, values[column.header], formats[(flag.severity, kind)])
        _fit_height(sheet, i, [(values[column.header], column.width) for column in wrapped])
    for col, column in enumerate(COLUMNS):
        sheet.set_column(col, col, column.width)
    # The header, and each row's project number and name, stay in sight.
    sheet.freeze_panes(1, HEADER.index("项目名称") + 1)
    last = max(len(flags), 1)
    _print_setup(sheet, title, landscape=True)
    sheet.print_area(0, 0, last, len(ON_SITE) - 1)
    sheet.repeat_rows(0)
    sheet.autofilter(0, 0, last, len(HEADER) - 1)
    answer = HEADER.index("处置")
    sheet.data_validation(1, answer, max(last, 500), answer, {
        "validate": "list", "source": list(KIND_ZH.values()),
        "input_title": "处置", "input_message": f"{' / '.join(KIND_ZH.values())}："
                                                f"填法见“{NOTES_SHEET}”表",
    })
    until = HEADER.index("豁免截止日期")
    sheet.data_validation(1, until, max(last, 500), until, {
        "validate": "date", "criteria": ">=",
        "value": dt.datetime.combine(run_date, dt.time()),
        "input_title": "豁免截止日期", "input_message": "只有豁免填写，如 2026-12-31",
        "error_title": "豁免截止日期", "error_message": f"填写 {run_date.isoformat()} 或以后的日期",
    })


def _resolved_sheet(book, formats, title: str, resolved: list[ResolvedFlag],
                    rules: dict[str, Rule]) -> None:
    sheet = book.add_worksheet(RESOLVED_SHEET)
    _write_cells(sheet, 0, 0, RESOLVED_HEADER, formats["head"])
    for i, item in enumerate(resolved, start=1):
        rule = rules.get(item.rule)
        _write_cells(sheet, i, 0, [item.project_id, item.project_name or NOT_FILED, item.rule,
                                   rule.title if rule else ""], formats["cell"])
        _write(sheet, i, 4, item.raised_on, formats["date"])
    sheet.set_column(0, 1, 28)
    sheet.set_column(2, 2, 6)
    sheet.set_column(3, 3, 28)
    sheet.set_column(4, 4, 12)
    sheet.freeze_panes(1, 0)
    _print_setup(sheet, title, landscape=False)
    sheet.repeat_rows(0)


def _notes_sheet(book, formats, title: str, night: _Night) -> None:
    """The legend, the rules of the list and how to answer it, said from the
    formats, parameters and checks the night uses."""
    sheet = book.add_worksheet(NOTES_SHEET)
    widths = (16, 80)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.write_string(0, 0, f"{title} 说明", formats["title"])
    rows = itertools.count(2)

    def note(label: str, text: str, label_format=formats["label"],
             text_format=formats["note"]) -> None:
        row = next(rows)
        sheet.write_string(row, 0, label, label_format)
        sheet.write_string(row, 1, text, text_format)
        _fit_height(sheet, row, list(zip((label, text), widths, strict=True)))

    bundle_day = night.view.bundle_day
    note("数据截至", (f"{night.cutoff}：清单依据此前已入库的数据；之后到达的数据，"
                     "下一夜的清单才会反映。"))
    note("发改数据", f"取自 {bundle_day.isoformat()} 的发改数据包。" if bundle_day
         else "本夜没有完整的发改数据包。")
    for rule in night.not_evaluated:
        note(f"本夜未评估：{rule.code}", (f"{rule.title}：本夜没有完整的发改数据包，该规则未评估。"
                                      "清单中没有这一规则的预警，不表示没有问题。"))
    for level in FILLS:
        note(ZH_LEVEL[level], f"{ZH_LEVEL[level]}色预警：{LEVEL_MEANING[level]}。",
             formats[(level, "text")], formats[(level, "wrap")])
    days = night.params["escalation.days"]
    note("超期 是", (f"超期：自首次预警日期起已超过 {days} 天仍未消除(已持续天数大于 {days})，"
                   "预警等级已升高一级(黄→橙，橙→红，红色不变)。"),
         formats[("red", "overdue")], formats[("red", "wrap")])
    note("督办时限", (f"预警须在 {days} 天内办结。清单先列超期的预警，再列其余预警，"
                     "各按预警等级(红、橙、黄)和已持续天数(从长到短)排列；序号即此顺序。"))
    note("处置", (f"在“{FLAG_SHEET}”表的处置列选填 {'、'.join(KIND_ZH.values())} 之一，"
                 "处置人填写姓名；不处置的行留空。"))
    for kind, zh in KIND_ZH.items():
        note(zh, FILLING_IN[kind])
    note("交回", ("填好后将工作簿(.xlsx)放入处置收件箱。整份工作簿一并记录：只要有一行有误，"
                 "整份退回并附每行的错误说明，改正后再放入即可。请勿改动表头和项目编号、规则、"
                 "首次预警日期三列；可以调整列宽、隐藏或增加列。日期写作 YYYY-MM-DD。"))
    note("其他", (f"{NOT_FILED}：数据源未填写该名称。{UNRESOLVED}：统一社会信用代码无法在企业"
                 "登记中核实。数据问题：预警所依据记录中的数据问题，记录仍已采用。"))
    _print_setup(sheet, title, landscape=False)
