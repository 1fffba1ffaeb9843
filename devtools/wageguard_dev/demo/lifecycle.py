"""Planted cases that play out over a month of nights, D-29 … D: a flag raised, kept,
escalated, resolved, and raised again as a new occurrence (rules.md, "Flag lifecycle").

Each case is a project of planted.py's compliant template that breaks one rule on some
nights and nothing else on any night. What changes its condition is a date passing or a
record changing: a change made on day X is a new record, or a new version of one, with
`updated_at` in office hours of X, so the night of X (run at 01:00 the next day) is the
first to see it while the versions before it stay served. The nights a condition holds
are stated by the case, never computed by evaluating a rule.

Ids are `ZJ<district>-<year>-8FNNN`, F the family as in planted.py: 1 WA1, 2 WA2,
3 WD1, 6 CR1."""

from __future__ import annotations

from datetime import date, timedelta

from .cases import LifecycleCase
from .planted import REQUIRED_FEN, Planter, typed

NIGHTS = 30

# A run of days on which a condition holds: its first day, and the first day it no
# longer holds (None: it still holds on D).
Run = tuple[date, date | None]


def month_of_nights(run_date: date) -> list[date]:
    """The nights a lifecycle test runs, oldest first: the NIGHTS nights up to D."""
    return [run_date - timedelta(days=back) for back in range(NIGHTS - 1, -1, -1)]


def raised_on_each_night(nights: list[date], *runs: Run) -> dict[date, date | None]:
    """For each night, the raised_on of a flag whose condition holds over `runs`, or None.
    A run already under way on the first night is raised on it: the warehouse knows no
    earlier night."""
    expected: dict[date, date | None] = dict.fromkeys(nights)
    for first, ends in runs:
        raised = max(first, nights[0])
        for night in nights:
            if raised <= night and (ends is None or night < ends):
                expected[night] = raised
    return expected


def first_day_after(project: dict, field: str, days: int) -> date:
    """The first D with D > the project's `field` + `days`: when a rule's grace ends."""
    return date.fromisoformat(project[field]) + timedelta(days=days + 1)


def plant_lifecycle(pl: Planter) -> list[LifecycleCase]:
    p, nights = pl.province, month_of_nights(pl.D)
    cases: list[LifecycleCase] = []

    def expect(project: dict, rule: str, note: str, *runs: Run) -> None:
        cases.append(LifecycleCase(
            project["project_id"], rule, raised_on_each_night(nights, *runs), note
        ))

    def account_due(project: dict) -> date:
        return first_day_after(project, "contract_signed_on", 30)

    def deposit_due(project: dict) -> date:
        return first_day_after(project, "started_on", 30)

    pr = pl.project(82001, account=False)
    opened = pl.day(-100)
    pl.account(pr, opened=opened)
    expect(pr, "WA2", "account opened D-100, never filed: open all month, overdue from D-13 "
           "(yellow escalated to orange)", (opened + timedelta(days=31), None))

    pr = pl.project(81001, account=False)
    expect(pr, "WA1", "works started D-380, never an account: red all month, overdue from "
           "D-13 and still red", (account_due(pr), None))

    signed = pl.day(-45)
    pr = pl.project(81002, signed=signed, started=signed + timedelta(days=5), account=False)
    expect(pr, "WA1", "signed D-45, no account: due once D > signed + 30, first on D-14; "
           "no record changes during the month", (account_due(pr), None))

    pr = pl.project(81003, account=False)
    opened, closed = pl.day(-20), pl.day(-8)
    account = pl.account(pr, opened=opened, filed=opened)
    p.add_version(p.wage_accounts, account, pl.when(closed), closed_on=closed.isoformat(),
                  status="closed")
    expect(pr, "WA1", "no account until one opens D-20 (new record), which closes D-8 (new "
           "version): a second occurrence raised D-8", (account_due(pr), opened), (closed, None))

    pr = pl.project(81004, account=False)
    p.add_version(p.projects, pr, pl.when(pl.day(-16)),
                  planned_completion_on=pl.day(400).isoformat())
    expect(pr, "WA1", "no account all month; the project is edited D-16 (planned completion "
           "moved), which changes nothing: the flag keeps its raised_on", (account_due(pr), None))

    pr = pl.project(83001, deposit=False)
    lodged = pl.day(-12)
    pl.deposit(pr, REQUIRED_FEN, deposited=lodged)
    expect(pr, "WD1", "no deposit until one is lodged D-12 (new record)",
           (deposit_due(pr), lodged))

    pr = pl.project(83002, deposit=False)
    deleted = pl.day(-5)
    p.add_version(p.projects, pr, pl.when(deleted), deleted=True)
    expect(pr, "WD1", "no deposit; the project is tombstoned D-5", (deposit_due(pr), deleted))

    pr = pl.project(83003, deposit=False)
    entered = pl.day(-15)
    pl.deposit(pr, REQUIRED_FEN, deposited=pl.day(-20), entered=entered)
    expect(pr, "WD1", "a deposit lodged D-20 is typed in only D-15: nights D-20 to D-16 "
           "did not know it and keep the flag, however often they are re-run",
           (deposit_due(pr), entered))

    pr = pl.project(83004, deposit=False)
    completed = pl.day(-7)
    p.add_version(p.projects, pr, pl.when(completed), status="completed",
                  completed_on=completed.isoformat())
    expect(pr, "WD1", "no deposit; the project is completed D-7 (new version)",
           (deposit_due(pr), completed))

    contractor, listed, repaired = pl.company(), pl.day(-100), pl.day(-10)
    entry = pl.entry(contractor, listed=listed)
    p.add_version(p.list_entries, entry, pl.when(repaired), removed_on=repaired.isoformat(),
                  removal_reason="信用修复")
    pr = pl.project(86001, contractor=typed(contractor))
    expect(pr, "CR1", "contractor listed D-100, removed by credit repair D-10 (new version "
           "of the entry)", (listed, repaired))

    contractor, listed = pl.company(), pl.day(-9)
    pl.entry(contractor, listed=listed)
    pr = pl.project(86002, contractor=typed(contractor))
    expect(pr, "CR1", "contractor listed D-9 (new entry entered that day)", (listed, None))
    return cases
