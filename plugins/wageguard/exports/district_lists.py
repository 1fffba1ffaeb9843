"""Each district's morning list: lists/<district_code>.xlsx for inspectors and
lists/<district_code>.csv (same rows) for their other tools. A district's
files hold only that district's projects."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path

from wageguard.exports.files import write_csv
from wageguard.exports.flag_list import ZH_LEVEL, OpenFlag
from wageguard.rules.catalogue import Rule

HEADER = [
    "超期", "预警等级", "规则", "问题", "缺失事项", "项目编号", "项目名称", "行政区划代码",
    "施工总承包单位", "总包统一社会信用代码", "建设单位", "建设单位统一社会信用代码",
    "首次预警日期", "已持续天数", "昨日以来", "依据", "处置",
]
WIDTHS = [6, 8, 6, 26, 40, 22, 30, 12, 30, 22, 30, 22, 12, 10, 8, 60, 10]
UNRESOLVED = "(未能核实)"
RESOLVED_HEADER = ["项目编号", "项目名称", "规则", "问题", "首次预警日期"]


def _row(flag: OpenFlag, rules: dict[str, Rule], params: dict) -> list:
    rule = rules[flag.rule]
    return [
        "是" if flag.overdue else "否",
        ZH_LEVEL[flag.severity],
        flag.rule,
        rule.title,
        rule.missing_text(params),
        flag.project_id,
        flag.project_name,
        flag.district_code,
        flag.contractor_name,
        flag.contractor_credit_code or UNRESOLVED,
        flag.builder_name,
        flag.builder_credit_code or UNRESOLVED,
        flag.raised_on.isoformat(),
        flag.days_open,
        "新增" if flag.new else "持续",
        rule.basis,
        flag.disposition,
    ]


def write_district_lists(
    folder: Path,
    run_date: dt.date,
    districts: list[str],
    flags: list[OpenFlag],
    resolved: list[dict],
    rules: dict[str, Rule],
    params: dict,
) -> dict[str, int]:
    """Writes a workbook and a CSV for every district, flagged or not: an empty
    list tells the inspector there is nothing new to chase. Returns rows per district."""
    folder.mkdir(parents=True, exist_ok=True)
    by_district: dict[str, list[OpenFlag]] = defaultdict(list)
    for flag in flags:
        by_district[flag.district_code].append(flag)
    resolved_by: dict[str, list[dict]] = defaultdict(list)
    for item in resolved:
        resolved_by[item["district_code"]].append(item)
    written = {}
    for district in sorted(set(districts) | set(by_district)):
        ordered = sorted(by_district[district], key=OpenFlag.sort_key)
        rows = [_row(f, rules, params) for f in ordered]
        write_csv(folder / f"{district}.csv", HEADER, rows, bom=True)
        _workbook(folder / f"{district}.xlsx", district, run_date, ordered, rows,
                  resolved_by[district], rules)
        written[district] = len(rows)
    return written


def _workbook(path: Path, district: str, run_date: dt.date, flags: list[OpenFlag],
              rows: list[list], resolved: list[dict], rules: dict[str, Rule]) -> None:
    import xlsxwriter  # the export task pays for it, not DAG parsing

    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    title = book.add_format({"bold": True, "font_size": 14})
    bold = book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True})
    fills = {
        "red": book.add_format({"bg_color": "#F8CBAD"}),
        "orange": book.add_format({"bg_color": "#FCE4D6"}),
        "yellow": book.add_format({"bg_color": "#FFF2CC"}),
    }

    summary = book.add_worksheet("汇总")
    summary.set_column(0, 0, 28)
    summary.set_column(1, 4, 10)
    summary.write(0, 0, f"{district} 欠薪预警清单 {run_date.isoformat()}", title)
    counts = Counter((f.rule, f.severity) for f in flags)
    summary.write_row(2, 0, ["规则", "红", "橙", "黄", "合计"], bold)
    line = 3
    for code, rule in rules.items():
        per = [counts[(code, level)] for level in ("red", "orange", "yellow")]
        summary.write_row(line, 0, [f"{code} {rule.title}", *per, sum(per)])
        line += 1
    line += 1
    for label, value in (
        ("在办预警", len(flags)),
        ("昨日以来新增", sum(f.new for f in flags)),
        ("昨日以来已消除", len(resolved)),
        ("超期(超过督办时限)", sum(f.overdue for f in flags)),
    ):
        summary.write_row(line, 0, [label, value])
        line += 1

    sheet = book.add_worksheet("预警清单")
    sheet.write_row(0, 0, HEADER, bold)
    for i, (flag, row) in enumerate(zip(flags, rows), start=1):
        sheet.write_row(i, 0, row, fills[flag.severity])
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(HEADER) - 1)

    done = book.add_worksheet("昨日以来已消除")
    done.write_row(0, 0, RESOLVED_HEADER, bold)
    for i, item in enumerate(resolved, start=1):
        done.write_row(i, 0, [item["project_id"], item["name"], item["rule"],
                              rules[item["rule"]].title, str(item["raised_on"])])
    done.set_column(0, 1, 28)
    done.set_column(2, 4, 14)
    done.freeze_panes(1, 0)
    book.close()
