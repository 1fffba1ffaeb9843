"""Night D's flags as the marts of sql/marts/ give them: the open flags with
their lifecycle and the parties beside them, the flags resolved since the
previous night, the figures per area, the trend of the last nights and the
contractors with the most red flags; beside them the data problems of the
records behind each flag, and flags.csv."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from wageguard.db.sqlfiles import read_sql, used_params
from wageguard.db.values import as_date
from wageguard.exports.files import write_csv
from wageguard.exports.marts import materialised, select, stream
from wageguard.sources.rest_feeds import closed_months
from wageguard.tables import BY_NAME

LEVELS = ("yellow", "orange", "red")
ZH_LEVEL = {"red": "红", "orange": "橙", "yellow": "黄"}
# How each severity is drawn in the charts of the workbooks and the board.
CHART_COLOURS = {"red": "#C00000", "orange": "#ED7D31", "yellow": "#FFC000"}
TREND_NIGHTS = 30
TOP_CONTRACTORS = 10


@dataclass(frozen=True)
class TrendNight:
    """An area's open flags on one night by base severity: a row of
    sql/marts/flag_trend.sql."""

    night: dt.date
    red: int
    orange: int
    yellow: int


@dataclass(frozen=True)
class Contractor:
    """A row of sql/marts/top_contractors.sql."""

    name: str
    credit_code: str | None  # None: unresolved
    red: int
    projects: int


# Per area, by (area_kind, area_code) as in Figures.
Trends = dict[tuple[str, str], list[TrendNight]]
Contractors = dict[tuple[str, str], list[Contractor]]


# slots: a district's list holds one of these per flag while its files are written.
@dataclass(slots=True)
class OpenFlag:
    project_id: str
    rule: str
    base_severity: str
    severity: str
    raised_on: dt.date
    days_open: int
    overdue: bool
    new: bool
    district_code: str
    project_name: str | None
    contractor_name: str | None
    contractor_credit_code: str | None
    builder_name: str | None
    builder_credit_code: str | None
    rule_version: str
    status: str = "open"  # open | exempted | false_positive (sql/marts/open_flags.sql)
    disposition: str = ""  # verified | exempted | false_positive, or empty
    disposition_until: dt.date | None = None
    disposition_reason: str | None = None
    disposition_inspector: str | None = None
    # What is wrong with the records the flag rests on, in inspectors' words
    # (专户开户银行为空): the record was used all the same.
    data_issues: tuple[str, ...] = ()
    overdue_red: bool = False  # listed, overdue and red: the board lists it first
    list_order: int = 0  # its place on the inspectors' lists

    @property
    def listed(self) -> bool:
        """Exempted and false-positive flags stay in flags.csv, off the lists."""
        return self.status == "open"


@dataclass(frozen=True)
class ResolvedFlag:
    project_id: str
    rule: str
    raised_on: dt.date
    district_code: str | None
    project_name: str | None


@dataclass(frozen=True)
class Figures:
    """An area's figures for one rule, or for every rule together (rule ''): a
    row of sql/marts/flag_summary.sql, which says what each counts."""

    area_kind: str  # province | city | district
    area_code: str
    area_name: str | None
    parent_code: str | None
    rule: str
    listed: int = 0
    red: int = 0
    orange: int = 0
    yellow: int = 0
    new: int = 0
    overdue: int = 0
    overdue_red: int = 0
    resolved: int = 0
    flags: int = 0
    flags_new: int = 0
    flags_overdue: int = 0
    exempted: int = 0
    false_positive: int = 0


class Summary:
    """The night's figures per area and rule."""

    def __init__(self, rows: Iterable[Figures]):
        self._rows = {(r.area_kind, r.area_code, r.rule): r for r in rows}

    def of(self, kind: str, code: str, rule: str = "") -> Figures:
        """A rule the mart has no row for counts zero in the area."""
        found = self._rows.get((kind, code, rule))
        return found or Figures(kind, code, None, None, rule)

    def areas(self, kind: str) -> list[Figures]:
        """Every area of a kind, for every rule together, by code."""
        return sorted((r for (k, _, rule), r in self._rows.items() if k == kind and not rule),
                      key=lambda r: r.area_code)


# How each kind of breach reads on an inspector's list.
_BREACH_ZH = (
    ("expect_column_values_to_not_be_null", "为空"),
    ("expect_column_values_to_match_regex", "格式不符"),
    ("expect_column_values_to_match_strftime_format", "不是有效日期"),
    ("expect_column_values_to_be_in_set", "取值不在规定范围"),
    ("normalise", "无法识别"),
)


def data_issue_text(table: str, column: str | None, expectation: str) -> str:
    """e.g. 专户开户银行为空 for a blank bank name on a wage account."""
    what = next((zh for kind, zh in _BREACH_ZH if expectation.startswith(kind)), "不符合约定")
    return f"{BY_NAME[table].label(column) if column else expectation}{what}"


def data_issues(conn: Connection, run_date: dt.date, bundle_day: dt.date | None,
                params: dict) -> dict[tuple[str, str], tuple[str, ...]]:
    """Per (project_id, rule): the data problems of its evidence, each said once."""
    sql = read_sql("exports/flag_data_issues.sql")
    bound = {"run_date": run_date, "bundle_day": bundle_day,
             "closed_month": closed_months(run_date, 1, params["month_closes_on_day"])[0]}
    found: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
    for r in conn.execute(text(sql), used_params(sql, bound)):
        found[(r.project_id, r.rule)][data_issue_text(r.source_table, r.column_name,
                                                      r.expectation)] = None
    return {flag: tuple(texts) for flag, texts in found.items()}


def _bound(run_date: dt.date, previous: dt.date | None, params: dict) -> dict:
    return {"run_date": run_date, "previous_night": previous,
            "escalation_days": params["escalation.days"]}


def open_flags_once(conn: Connection, run_date: dt.date, previous: dt.date | None,
                    params: dict) -> AbstractContextManager[None]:
    """Night D's open flags evaluated once for the block, for the marts that
    read them: the summary, the lists and the board's contractors."""
    return materialised(conn, "open_flags", _bound(run_date, previous, params))


def open_flags(conn: Connection, run_date: dt.date, previous: dt.date | None,
               params: dict, bundle_day: dt.date | None = None) -> Iterator[OpenFlag]:
    """sql/marts/open_flags.sql, with the data problems of each flag's records,
    as they are read: district by district, each district's in list order."""
    issues = data_issues(conn, run_date, bundle_day, params)
    for row in stream(conn, "open_flags", _bound(run_date, previous, params)):
        yield OpenFlag(**{
            **row,
            "raised_on": as_date(row["raised_on"]),
            "overdue": bool(row["overdue"]),
            "new": bool(row["new"]),
            "overdue_red": bool(row["overdue_red"]),
            "disposition_until": as_date(row["disposition_until"]),
            "data_issues": issues.get((row["project_id"], row["rule"]), ()),
        })


def trends(conn: Connection, run_date: dt.date) -> Trends:
    """sql/marts/flag_trend.sql over the last TREND_NIGHTS nights up to D."""
    found: Trends = defaultdict(list)
    first_night = run_date - dt.timedelta(days=TREND_NIGHTS - 1)
    for row in select(conn, "flag_trend", {"run_date": run_date, "first_night": first_night}):
        found[(row["area_kind"], row["area_code"])].append(TrendNight(
            as_date(row["night"]), int(row["red"]), int(row["orange"]), int(row["yellow"])))
    return dict(found)


def top_contractors(conn: Connection, run_date: dt.date, previous: dt.date | None,
                    params: dict) -> Contractors:
    """sql/marts/top_contractors.sql, the first TOP_CONTRACTORS of each area;
    an area without red flags has none."""
    found: Contractors = defaultdict(list)
    for row in select(conn, "top_contractors",
                      {**_bound(run_date, previous, params), "top_contractors": TOP_CONTRACTORS}):
        found[(row["area_kind"], row["area_code"])].append(Contractor(
            row["contractor_name"], row["contractor_credit_code"], int(row["red"]),
            int(row["projects"])))
    return dict(found)


def resolved_since(conn: Connection, run_date: dt.date,
                   previous: dt.date | None) -> list[ResolvedFlag]:
    """sql/marts/resolved_flags.sql."""
    rows = select(conn, "resolved_flags", {"run_date": run_date, "previous_night": previous})
    return [ResolvedFlag(**{**row, "raised_on": as_date(row["raised_on"])}) for row in rows]


def flag_summary(conn: Connection, run_date: dt.date, previous: dt.date | None,
                 params: dict) -> Summary:
    """sql/marts/flag_summary.sql, its cities as the roster kept in the
    warehouse groups them (night_outputs.keep_roster)."""
    return Summary(Figures(**row)
                   for row in select(conn, "flag_summary", _bound(run_date, previous, params)))


FLAGS_CSV_HEADER = [
    "project_id", "rule", "severity", "base_severity", "raised_on", "days_open", "overdue",
    "district_code", "contractor_credit_code", "builder_credit_code", "disposition",
    "rule_version", "status", "exempt_until", "new", "project_name", "contractor_name",
    "builder_name",
]


def write_flags_csv(path: Path, flags: Iterable[OpenFlag]) -> int:
    rows = (
        [f.project_id, f.rule, f.severity, f.base_severity, f.raised_on.isoformat(),
         f.days_open, str(f.overdue).lower(), f.district_code, f.contractor_credit_code,
         f.builder_credit_code, f.disposition, f.rule_version, f.status,
         f.disposition_until.isoformat() if f.disposition_until else "",
         str(f.new).lower(), f.project_name, f.contractor_name, f.builder_name]
        for f in flags
    )
    return write_csv(path, FLAGS_CSV_HEADER, rows, for_spreadsheets=True)

