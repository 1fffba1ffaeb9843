"""Inspectors' dispositions on flags (rules.md, "Flag lifecycle").

A disposition applies to one occurrence of a flag, (project_id, rule,
raised_on): a flag that resolves and comes back is a new occurrence and starts
undisposed. Dispositions are only ever appended; the latest recorded on an
occurrence is in force. They are recorded against the latest published night,
the one whose list the inspector is reading."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import Connection, text

from wageguard.db.values import as_date
from wageguard.landing.store import now_text

KIND_ZH = {"verified": "核实", "exempted": "豁免", "false_positive": "误报"}
KINDS = tuple(KIND_ZH)



class DispositionError(ValueError):
    """A disposition that cannot be recorded; the message says what to change."""


@dataclasses.dataclass(frozen=True)
class Disposition:
    project_id: str
    rule: str
    raised_on: dt.date
    kind: str
    until: dt.date | None
    reason: str | None
    inspector: str | None
    source: str
    # Set when recorded: a checked disposition that is not yet stored has neither.
    seq: int | None = None
    recorded_at: str | None = None


_COLUMNS = ("project_id", "rule", "raised_on", "kind", "until", "reason", "inspector",
            "source", "seq", "recorded_at")

_IN_FORCE = (
    f"SELECT {', '.join('d.' + c for c in _COLUMNS)} FROM disposition d "
    "WHERE d.seq = (SELECT MAX(l.seq) FROM disposition l WHERE l.project_id = d.project_id "
    "AND l.rule = d.rule AND l.raised_on = d.raised_on)"
)


def _from_row(row) -> Disposition:
    return Disposition(**{**row, "raised_on": as_date(row["raised_on"]),
                          "until": as_date(row["until"])})


def _filled(value: str | None) -> str | None:
    """Blank text is no text: a reason of spaces explains nothing."""
    if value is None or not value.strip():
        return None
    return value.strip()


def latest_night(conn: Connection) -> dt.date | None:
    return as_date(conn.execute(text("SELECT MAX(run_date) FROM night")).scalar())


def _open_raised_on(conn: Connection, night: dt.date, project_id: str,
                    rule: str) -> dt.date | None:
    return as_date(conn.execute(
        text("SELECT raised_on FROM flag_night "
             "WHERE run_date = :d AND project_id = :p AND rule = :r"),
        {"d": night, "p": project_id, "r": rule},
    ).scalar())


def _open_occurrence(conn: Connection, project_id: str, rule: str,
                     seen_raised_on: dt.date | None) -> tuple[dt.date | None, str | None]:
    """The raised_on of the occurrence open on the latest night, or why there is none."""
    if not project_id or not rule:
        return None, "both the project number (项目编号) and the rule code (规则) are needed"
    night = latest_night(conn)
    if night is None:
        return None, ("no night has been published yet, so no flag is open to dispose of: "
                      "run a night first")
    raised_on = _open_raised_on(conn, night, project_id, rule)
    if raised_on is None:
        return None, (f"flag {rule} of project {project_id} is not open on night {night}, the "
                      "latest published night (it may have resolved since your list was made): "
                      "check the project number (项目编号) and rule code (规则) against that "
                      "night's list")
    if seen_raised_on is not None and seen_raised_on != raised_on:
        return None, (f"this row is about the occurrence of flag {rule} first raised on "
                      f"{seen_raised_on} (首次预警日期), but the open occurrence was first raised "
                      f"on {raised_on}: the row comes from an older list, so dispose of the flag "
                      "on the latest list")
    return raised_on, None


def _kind_problems(kind: str, until: dt.date | None, reason: str | None,
                   today: dt.date) -> list[str]:
    problems = []
    if kind not in KINDS:
        problems.append(f"{kind!r} is not a disposition (处置): use verified (核实), "
                        "exempted (豁免) or false_positive (误报)")
        return problems
    if kind == "exempted":
        if until is None:
            problems.append("an exemption (豁免) needs an end date (豁免截止日期, YYYY-MM-DD): "
                            "the flag stays off the list up to and including that day")
        elif until < today:
            problems.append(f"the exemption end date (豁免截止日期) {until} is a date in the past "
                            f"(today is {today}): give today or a later date")
        if reason is None:
            problems.append("an exemption (豁免) needs a reason (处置理由): say why the flag "
                            "may wait")
        return problems
    if until is not None:
        problems.append(f"only an exemption (豁免) has an end date: leave the end date "
                        f"(豁免截止日期) empty for {kind} ({KIND_ZH[kind]})")
    if kind == "false_positive" and reason is None:
        problems.append("a false positive (误报) needs a reason (处置理由): say why the flag "
                        "is wrong")
    return problems


def check_disposition(conn: Connection, *, project_id: str, rule: str, kind: str,
                      until: dt.date | None, reason: str | None, inspector: str | None,
                      source: str, today: dt.date,
                      seen_raised_on: dt.date | None = None) -> Disposition:
    """The disposition as it would be recorded, or a DispositionError naming
    every problem at once so one correction round is enough. seen_raised_on is
    the first-raised date the inspector was shown (a sheet's 首次预警日期): it
    must be that of the open occurrence, so an old list cannot dispose of a
    newer one."""
    project_id, rule, reason = project_id.strip(), rule.strip(), _filled(reason)
    raised_on, unknown = _open_occurrence(conn, project_id, rule, seen_raised_on)
    problems = [unknown] if unknown else []
    problems += _kind_problems(kind, until, reason, today)
    if problems:
        raise DispositionError("; ".join(problems))
    assert raised_on is not None, "no open occurrence is always among the problems"
    return Disposition(project_id=project_id, rule=rule, raised_on=raised_on, kind=kind,
                       until=until, reason=reason, inspector=_filled(inspector), source=source)


def insert_disposition(conn: Connection, checked: Disposition) -> Disposition:
    """Appends a checked disposition after the occurrence's earlier ones. Two
    writers racing on one occurrence collide on the primary key rather than
    overwrite each other."""
    key = {"p": checked.project_id, "r": checked.rule, "raised": checked.raised_on}
    seq = conn.execute(
        text("SELECT COALESCE(MAX(seq), 0) + 1 FROM disposition "
             "WHERE project_id = :p AND rule = :r AND raised_on = :raised"),
        key,
    ).scalar_one()
    recorded = dataclasses.replace(checked, seq=seq, recorded_at=now_text())
    conn.execute(
        text(f"INSERT INTO disposition ({', '.join(_COLUMNS)}) "
             f"VALUES ({', '.join(':' + c for c in _COLUMNS)})"),
        dataclasses.asdict(recorded),
    )
    return recorded


def record_disposition(conn: Connection, *, project_id: str, rule: str, kind: str,
                       until: dt.date | None = None, reason: str | None = None,
                       inspector: str | None = None, source: str = "command",
                       today: dt.date) -> Disposition:
    """Records a disposition on the occurrence of (project_id, rule) open on
    the latest published night. Nothing is written when it is refused."""
    return insert_disposition(conn, check_disposition(
        conn, project_id=project_id, rule=rule, kind=kind, until=until, reason=reason,
        inspector=inspector, source=source, today=today,
    ))


def disposition_in_force(conn: Connection, project_id: str, rule: str,
                         raised_on: dt.date) -> Disposition | None:
    row = conn.execute(
        text(_IN_FORCE + " AND d.project_id = :p AND d.rule = :r AND d.raised_on = :raised"),
        {"p": project_id, "r": rule, "raised": raised_on},
    ).mappings().first()
    return None if row is None else _from_row(row)
