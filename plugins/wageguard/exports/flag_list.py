"""Night D's open flags as inspectors see them: severity after escalation,
days open, overdue, the parties with their credit codes, new since the
previous night, the data problems of the records behind them; and the flags
resolved since then."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from wageguard.exports.files import write_csv
from wageguard.sources.rest_feeds import closed_months
from wageguard.tables import BY_NAME
from wageguard.warehouse.sqlfiles import read_sql, used_params
from wageguard.warehouse.values import as_date

LEVELS = ("yellow", "orange", "red")
ZH_LEVEL = {"red": "红", "orange": "橙", "yellow": "黄"}


def escalate(severity: str) -> str:
    return LEVELS[min(LEVELS.index(severity) + 1, len(LEVELS) - 1)]


@dataclass(frozen=True)
class Trend:
    """Open flags per night and base severity, for one district's chart."""

    nights: list[dt.date]
    counts: dict[tuple[dt.date, str], int]


@dataclass
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
    status: str = "open"  # open | exempted | false_positive (rules/dispositions.py)
    disposition: str = ""  # verified | exempted | false_positive, or empty
    disposition_until: dt.date | None = None
    disposition_reason: str | None = None
    disposition_inspector: str | None = None
    # What is wrong with the records the flag rests on, in inspectors' words
    # (专户开户银行为空): the record was used all the same.
    data_issues: tuple[str, ...] = ()

    @property
    def listed(self) -> bool:
        """Exempted and false-positive flags stay in flags.csv, off the lists."""
        return self.status == "open"

    def sort_key(self):
        """Overdue red first, then by severity, longest open first."""
        return (not self.overdue, -LEVELS.index(self.severity), -self.days_open,
                self.project_id, self.rule)


_QUERY = """
SELECT f.project_id, f.rule, f.base_severity, f.raised_on, f.rule_version,
       p.district_code, p.name AS project_name,
       c.name_as_typed AS contractor_name, c.credit_code AS contractor_credit_code,
       b.name_as_typed AS builder_name, b.credit_code AS builder_credit_code
FROM flag_night f
JOIN night_project p ON p.run_date = f.run_date AND p.project_id = f.project_id
LEFT JOIN night_party c ON c.run_date = f.run_date AND c.project_id = f.project_id
     AND c.role = 'contractor'
LEFT JOIN night_party b ON b.run_date = f.run_date AND b.project_id = f.project_id
     AND b.role = 'builder'
WHERE f.run_date = :d
"""


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


def open_flags(conn: Connection, run_date: dt.date, previous: dt.date | None,
               params: dict, bundle_day: dt.date | None = None) -> list[OpenFlag]:
    from wageguard.rules.dispositions import dispositions_for_night, listing_status

    disposed = dispositions_for_night(conn, run_date)
    issues = data_issues(conn, run_date, bundle_day, params)
    before = set()
    if previous is not None:
        before = {
            (r.project_id, r.rule)
            for r in conn.execute(
                text("SELECT project_id, rule FROM flag_night WHERE run_date = :d"),
                {"d": previous},
            )
        }
    flags = []
    for r in conn.execute(text(_QUERY), {"d": run_date}).mappings():
        raised = as_date(r["raised_on"])
        days_open = (run_date - raised).days
        overdue = days_open > params["escalation.days"]
        found = disposed.get((r["project_id"], r["rule"]))
        flags.append(OpenFlag(
            project_id=r["project_id"], rule=r["rule"], base_severity=r["base_severity"],
            severity=escalate(r["base_severity"]) if overdue else r["base_severity"],
            raised_on=raised, days_open=days_open, overdue=overdue,
            new=(r["project_id"], r["rule"]) not in before,
            district_code=r["district_code"], project_name=r["project_name"],
            contractor_name=r["contractor_name"],
            contractor_credit_code=r["contractor_credit_code"],
            builder_name=r["builder_name"], builder_credit_code=r["builder_credit_code"],
            rule_version=r["rule_version"],
            status=listing_status(found, run_date),
            disposition=found.kind if found else "",
            disposition_until=found.until if found else None,
            disposition_reason=found.reason if found else None,
            disposition_inspector=found.inspector if found else None,
            data_issues=issues.get((r["project_id"], r["rule"]), ()),
        ))
    return sorted(flags, key=lambda f: (f.project_id, f.rule))


def trends(conn: Connection, run_date: dt.date, nights: int) -> dict:
    """Per district, flags open on each published night of the last `nights`
    (and on D), by base severity: the data of the workbook's chart."""
    first = run_date - dt.timedelta(days=nights - 1)
    rows = conn.execute(
        text(
            "SELECT f.run_date, f.district_code, f.base_severity, COUNT(*) AS n "
            "FROM flag_night f "
            "WHERE f.run_date >= :first AND f.run_date <= :d "
            "AND (f.run_date = :d OR f.run_date IN (SELECT run_date FROM night)) "
            "GROUP BY f.run_date, f.district_code, f.base_severity"
        ),
        {"first": first, "d": run_date},
    ).all()
    nights_seen = sorted({as_date(r.run_date) for r in rows} | {run_date})
    counts: dict[str, dict] = defaultdict(dict)
    for r in rows:
        counts[r.district_code][(as_date(r.run_date), r.base_severity)] = r.n
    return {district: Trend(nights_seen, c) for district, c in counts.items()}


def resolved_since(conn: Connection, run_date: dt.date, previous: dt.date | None) -> list[dict]:
    """Flags open on the previous night that are not open on D."""
    if previous is None:
        return []
    rows = conn.execute(
        text(
            "SELECT o.project_id, o.rule, o.raised_on, o.district_code, o.project_name AS name "
            "FROM flag_night o "
            "WHERE o.run_date = :prev AND NOT EXISTS (SELECT 1 FROM flag_night n "
            "WHERE n.run_date = :d AND n.project_id = o.project_id AND n.rule = o.rule) "
            "ORDER BY o.project_id, o.rule"
        ),
        {"prev": previous, "d": run_date},
    ).mappings()
    return [dict(r) for r in rows]


FLAGS_CSV_HEADER = [
    "project_id", "rule", "severity", "base_severity", "raised_on", "days_open", "overdue",
    "district_code", "contractor_credit_code", "builder_credit_code", "disposition",
    "rule_version", "status", "exempt_until", "new", "project_name", "contractor_name",
    "builder_name",
]


def write_flags_csv(path: Path, flags: list[OpenFlag]) -> int:
    rows = [
        [f.project_id, f.rule, f.severity, f.base_severity, f.raised_on.isoformat(),
         f.days_open, str(f.overdue).lower(), f.district_code, f.contractor_credit_code,
         f.builder_credit_code, f.disposition, f.rule_version, f.status,
         f.disposition_until.isoformat() if f.disposition_until else "",
         str(f.new).lower(), f.project_name, f.contractor_name, f.builder_name]
        for f in flags
    ]
    return write_csv(path, FLAGS_CSV_HEADER, rows, for_spreadsheets=True)

