"""Inspectors answer their district list by filling in its disposition columns
and dropping the workbook into the inbox folder. Each workbook is recorded
whole or not at all: a half-recorded sheet would leave the inspector guessing
which rows took. Recorded files move to processed/, refused ones to rejected/
with an errors file beside them; the inbox itself only holds what is still to read."""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine

from wageguard.rules.dispositions import (
    KIND_ZH,
    Disposition,
    DispositionError,
    check_disposition,
    disposition_in_force,
    insert_disposition,
)

log = logging.getLogger(__name__)

SHEET = "预警清单"
# field -> header in row 1 of the sheet; columns are found by these names, so
# an inspector may reorder, hide or add columns.
REQUIRED = {
    "project_id": "项目编号",
    "rule": "规则",
    "raised_on": "首次预警日期",
    "kind": "处置",
    "until": "豁免截止日期",
    "reason": "处置理由",
}
OPTIONAL = {"inspector": "处置人"}
ZH_KIND = {zh: kind for kind, zh in KIND_ZH.items()}
# What each 处置 asks of its row, as check_disposition holds it to it; the
# workbook's 说明 sheet tells inspectors so.
FILLING_IN = {
    "verified": "预警属实，已核实；预警仍列入清单直至消除，不填豁免截止日期。",
    "exempted": "暂缓督办：须填豁免截止日期(不早于交回当天)和处置理由；截止日期当天及以前，"
                "该预警不列入清单。",
    "false_positive": "预警有误：须填处置理由；该预警不再列入清单，消除后再次出现时重新预警。",
}
PROCESSED, REJECTED = "processed", "rejected"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@dataclass
class InboxReport:
    processed: list[str] = field(default_factory=list)  # file names as dropped
    rejected: list[str] = field(default_factory=list)
    recorded: int = 0     # dispositions recorded from processed files
    unchanged: int = 0    # filled rows repeating the disposition already in force
    bad_rows: int = 0     # rows listed in errors files


def _text(value) -> str:
    """A cell as text. Excel turns a typed number into a float; 123.0 is '123'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _day(value, header: str) -> dt.date | None:
    """A date cell: an Excel date, or text YYYY-MM-DD."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    written = _text(value)
    if not written:
        return None
    if _ISO_DAY.fullmatch(written):
        try:
            return dt.date.fromisoformat(written)
        except ValueError:
            pass  # a well-shaped non-date such as 2026-02-30 gets the message below
    raise DispositionError(f"{header} {written!r} is not a date: write it as YYYY-MM-DD")


def _sheet_rows(path: Path) -> list[tuple]:
    from openpyxl import load_workbook  # the inbox task pays for it, not DAG parsing

    try:
        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book[SHEET] if SHEET in book.sheetnames else None
            rows = list(sheet.iter_rows(values_only=True)) if sheet is not None else []
        finally:
            book.close()
    except Exception as exc:  # openpyxl fails in many ways on a damaged or foreign file
        raise DispositionError(
            f"not a readable Excel workbook (.xlsx): {type(exc).__name__}: {exc}. Save the "
            "district list from Excel as .xlsx and drop it into the inbox again"
        ) from exc
    if sheet is None:
        raise DispositionError(f"the workbook has no sheet named {SHEET}: drop the district "
                               "list as exported, with its flag sheet")
    return rows


def _header(rows: list[tuple]) -> dict[str, int]:
    """Field -> column position, or a DispositionError naming the missing headers."""
    positions: dict[str, int] = {}
    for i, value in enumerate(rows[0] if rows else ()):
        positions.setdefault(_text(value), i)
    missing = [name for name in REQUIRED.values() if name not in positions]
    if missing:
        raise DispositionError(
            f"the {SHEET} sheet lacks the column(s) {', '.join(missing)} in its header row "
            "(row 1): use the district list as exported, without renaming its columns"
        )
    headers = {**REQUIRED, **OPTIONAL}
    return {f: positions[name] for f, name in headers.items() if name in positions}


def _cells(values: tuple, columns: dict[str, int]) -> dict:
    # read-only rows stop at their last filled cell
    return {f: values[i] if i < len(values) else None for f, i in columns.items()}


def _row_disposition(conn: Connection, cells: dict, source: str,
                     today: dt.date) -> Disposition | None:
    """The row's disposition, or None when it repeats the one in force (same
    处置, 豁免截止日期 and 处置理由): the exported list shows dispositions already
    recorded, and sending one back unchanged, even an exemption whose date has
    passed, asks for nothing new."""
    problems = []
    dates = {}
    for f in ("raised_on", "until"):
        try:
            dates[f] = _day(cells[f], REQUIRED[f])
        except DispositionError as bad:
            problems.append(str(bad))
    if "raised_on" in dates and dates["raised_on"] is None:
        problems.append(f"{REQUIRED['raised_on']} is empty: keep the first-raised date the "
                        "list showed for this flag")
    if problems:
        raise DispositionError("; ".join(problems))
    raised_on = dates["raised_on"]
    assert raised_on is not None, "a row without its first-raised date was refused above"
    written = _text(cells["kind"])
    project_id, rule = _text(cells["project_id"]), _text(cells["rule"])
    kind, reason = ZH_KIND.get(written, written), _text(cells["reason"]) or None
    in_force = disposition_in_force(conn, project_id, rule, raised_on)
    if in_force is not None and (
        (in_force.kind, in_force.until, in_force.reason) == (kind, dates["until"], reason)
    ):
        return None
    return check_disposition(conn, project_id=project_id, rule=rule, kind=kind,
                             until=dates["until"], reason=reason,
                             inspector=_text(cells.get("inspector")) or None,
                             source=source, today=today, seen_raised_on=raised_on)


@dataclass
class _Outcome:
    recorded: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def _ingest_file(engine: Engine, path: Path, source: str, today: dt.date) -> _Outcome:
    rows = _sheet_rows(path)
    columns = _header(rows)
    outcome = _Outcome()
    good: list[Disposition] = []
    first_row_of: dict[tuple[str, str], int] = {}
    with engine.begin() as conn:
        for number, values in enumerate(rows[1:], start=2):
            cells = _cells(values, columns)
            if not _text(cells["kind"]):
                continue
            flag = (_text(cells["project_id"]), _text(cells["rule"]))
            where = f"row {number}, project {flag[0] or '?'}, rule {flag[1] or '?'}"
            if flag in first_row_of:
                outcome.errors.append(f"{where}: the same flag is disposed of in row "
                                      f"{first_row_of[flag]}: keep one of the two rows")
                continue
            first_row_of[flag] = number
            try:
                found = _row_disposition(conn, cells, source, today)
            except DispositionError as bad:
                outcome.errors.append(f"{where}: {bad}")
                continue
            if found is None:
                outcome.unchanged += 1
            else:
                good.append(found)
        if outcome.errors:
            return outcome  # nothing was written, so leaving the block commits nothing
        for checked in good:
            insert_disposition(conn, checked)
    outcome.recorded = len(good)
    return outcome


def _stamped(path: Path) -> str:
    """A name unique in processed/ and rejected/ even when an inspector drops
    a file of the same name again; colon-free for Windows shares."""
    return f"{dt.datetime.now(_SHANGHAI):%Y%m%dT%H%M%S.%f}_{path.name}"


def _reject(report: InboxReport, path: Path, name: str, errors: list[str]) -> None:
    folder = path.parent / REJECTED
    folder.mkdir(exist_ok=True)
    advice = (f"{path.name}: nothing from this file was recorded. Correct what is listed "
              "below and drop the file into the inbox again.")
    lines = [advice, "", *errors, ""]
    (folder / f"{name}.errors.txt").write_text("\n".join(lines), encoding="utf-8")
    shutil.move(path, folder / name)
    report.rejected.append(path.name)
    log.warning("disposition inbox: rejected %s: %s", path.name, "; ".join(errors))


def ingest_inbox(engine: Engine, inbox: Path, today: dt.date) -> InboxReport:
    """Records every workbook dropped into the inbox, oldest first so that a
    later answer on the same flag wins. Exemption dates are judged against today."""
    report = InboxReport()
    # ~$ files are Excel's locks on a workbook someone has open, not workbooks
    dropped = [p for p in inbox.glob("*.xlsx") if not p.name.startswith("~$")]
    for path in sorted(dropped, key=lambda p: (p.stat().st_mtime, p.name)):
        name = _stamped(path)
        try:
            outcome = _ingest_file(engine, path, name, today)
        except DispositionError as unreadable:
            _reject(report, path, name, [str(unreadable)])
            continue
        if outcome.errors:
            _reject(report, path, name, outcome.errors)
            report.bad_rows += len(outcome.errors)
            continue
        (inbox / PROCESSED).mkdir(exist_ok=True)
        shutil.move(path, inbox / PROCESSED / name)
        report.processed.append(path.name)
        report.recorded += outcome.recorded
        report.unchanged += outcome.unchanged
        log.info("disposition inbox: %s recorded %d dispositions (%d unchanged)", path.name,
                 outcome.recorded, outcome.unchanged)
    return report
