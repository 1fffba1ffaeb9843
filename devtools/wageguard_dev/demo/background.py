"""The province at large: companies, projects and everything that hangs off them, drawn
at random in the proportions of a real province.

None of it is checked by anyone: it is the volume and the variety in which the planted
cases hide. It raises flags of its own, as a real province does."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from .identifiers import DISTRICTS, District
from .records import (
    Province,
    add_months,
    month_bounds,
    month_of,
    party,
    stamp,
    wan_yuan,
)

_DISTRICT_WEIGHTS = tuple(itertools.accumulate(d.weight for d in DISTRICTS))
_STATUSES = ("under_construction", "suspended", "pending", "completed", "cancelled")
_STATUS_WEIGHTS = tuple(itertools.accumulate((45, 5, 10, 35, 5)))
_DEVREFORM_STATUS = {
    "under_construction": "在建",
    "suspended": "停建",
    "pending": "未开工",
    "completed": "已竣工",
    "cancelled": "停建",
}
_GOVERNMENT_TRADES = ("城市建设投资", "城市发展投资", "工业园区开发")
_REALNAME_MONTHS = 12
_DISBURSEMENT_MONTHS = 18


@dataclass
class _Company:
    record: dict  # the register's latest version
    weight: float  # big contractors win many projects


def populate(province: Province, project_count: int) -> None:
    """Fill `province` with `project_count` projects and the records that go with them."""
    rng = province.rng
    contractors = [_company(province, builder=False) for _ in range(max(8, project_count // 8))]
    builders = [_company(province, builder=True) for _ in range(max(6, project_count // 12))]
    _list_some(province, contractors + builders)
    contractor_weights = tuple(itertools.accumulate(c.weight for c in contractors))
    builder_weights = tuple(itertools.accumulate(c.weight for c in builders))
    months = _month_window(province.run_date, _REALNAME_MONTHS)
    for _ in range(project_count):
        district = rng.choices(DISTRICTS, cum_weights=_DISTRICT_WEIGHTS)[0]
        builder = rng.choices(builders, cum_weights=builder_weights)[0].record
        contractor = rng.choices(contractors, cum_weights=contractor_weights)[0].record
        project = _project(province, district, builder, contractor)
        _wage_accounts(province, project, district)
        _wage_deposit(province, project, contractor["credit_code"])
        _realname(province, project, months)
        if project["investment_code"]:
            _investment(province, project, district, builder)
    for _ in range(project_count // 10):
        _investment_without_housing_project(province, rng.choice(builders).record)


def _day(province: Province, earliest: date, latest: date) -> date:
    return earliest + timedelta(days=province.rng.randrange((latest - earliest).days + 1))


def _last_change(province: Province, first: date) -> str:
    """When a record was last touched: a quarter of them during the past week (what
    the nightly incremental pulls pick up), a few just after midnight of the run night."""
    rng, run_date = province.rng, province.run_date
    if rng.random() < 0.25 and first <= run_date:
        if rng.random() < 0.05:
            return stamp(run_date + timedelta(days=1), rng.randrange(3600))
        week_ago = max(first, run_date - timedelta(days=6))
        return province.at_office_hours(_day(province, week_ago, run_date))
    return province.at_office_hours(_day(province, first, max(first, run_date - timedelta(days=7))))


def _company(province: Province, *, builder: bool) -> _Company:
    rng, run_date = province.rng, province.run_date
    district = rng.choices(DISTRICTS, cum_weights=_DISTRICT_WEIGHTS)[0]
    registered = run_date - timedelta(days=rng.randrange(400, 9000))
    code = (
        province.ids.credit_code_failing_check(district.code)
        if rng.random() < 0.01
        else province.ids.credit_code(district.code)
    )
    former = tuple(province.names.company(district, builder=builder) for _ in range(_renames(rng)))
    legacy = None
    if registered.year < 2016 and rng.random() < 0.6:
        legacy = province.ids.legacy_registration_no(district.code)
    status = rng.choices(("active", "revoked", "deregistered"), (92, 4, 4))[0]
    current = province.enterprise(
        district=district,
        name=province.names.company(district, builder=builder),
        credit_code=code,
        former_names=former,
        legacy_registration_no=legacy,
        status=status,
        updated_at=_last_change(province, registered),
    )
    if former:  # the register's version from before the last renaming
        province.add_version(
            province.enterprises, current, province.at_office_hours(registered),
            name=former[0], former_names=list(former[1:]),
        )
    if rng.random() < 0.003:
        province.add_version(
            province.enterprises, current, _last_change(province, run_date), deleted=True
        )
    return _Company(current, rng.paretovariate(1.2))


def _renames(rng) -> int:
    draw = rng.random()
    return 2 if draw < 0.02 else 1 if draw < 0.1 else 0


def _list_some(province: Province, companies: list[_Company]) -> None:
    """A few per cent of companies end up on a list, some more than once; a few listed
    subjects are not in the province's register at all."""
    rng, run_date = province.rng, province.run_date
    listed = rng.sample(companies, max(3, len(companies) // 25))
    for company in listed:
        subject = company.record
        if rng.random() < 0.05:
            district = rng.choice(DISTRICTS)
            subject = {
                "name": province.names.company(district, builder=False),
                "credit_code": province.ids.credit_code(district.code),
                "registered_district_code": district.code,
            }
        for _ in range(rng.choice((1, 1, 1, 2))):
            _entry(province, subject, run_date - timedelta(days=rng.randrange(5 * 365)))


def _entry(province: Province, subject: dict, listed: date) -> None:
    rng, run_date = province.rng, province.run_date
    dishonest = rng.random() < 0.6
    expires = listed + timedelta(days=3 * 365 if dishonest else 365)
    removed = None
    if dishonest and rng.random() < 0.2:
        removed = listed + timedelta(days=rng.randrange(365, 900))
        removed = removed if removed <= run_date else None
    entry = province.list_entry(
        subject=subject,
        list_type="dishonest" if dishonest else "major_violation",
        listed=listed,
        expires=expires,
        updated_at=province.at_office_hours(listed),
    )
    if removed:
        province.add_version(
            province.list_entries, entry, province.at_office_hours(removed),
            removed_on=removed.isoformat(), removal_reason="信用修复",
        )
    if dishonest and rng.random() < 0.6:
        person = subject.get("legal_representative") or province.names.person()
        province.list_entry(
            subject=subject, list_type="dishonest", listed=listed, expires=expires,
            updated_at=province.at_office_hours(listed), person=person, removed=removed,
        )
    if rng.random() < 0.02:
        province.add_version(
            province.list_entries, entry, _last_change(province, listed), deleted=True
        )


def _project(province: Province, district: District, builder: dict, contractor: dict) -> dict:
    rng, run_date = province.rng, province.run_date
    status = rng.choices(_STATUSES, cum_weights=_STATUS_WEIGHTS)[0]
    started = completed = None
    if status in ("under_construction", "suspended"):
        signed = run_date - timedelta(days=rng.randrange(40, 1500))
        started = min(signed + timedelta(days=rng.randrange(5, 60)), run_date)
    elif status == "pending":
        signed = run_date - timedelta(days=rng.randrange(-60, 120))
    elif status == "completed":
        signed = run_date - timedelta(days=rng.randrange(400, 2200))
        started = signed + timedelta(days=rng.randrange(5, 60))
        completed = min(
            started + timedelta(days=rng.randrange(250, 1000)),
            run_date - timedelta(days=rng.randrange(1, 60)),
        )
    else:
        signed = run_date - timedelta(days=rng.randrange(60, 1500))
    planned = (started or signed) + timedelta(days=rng.randrange(300, 1100))
    amount_fen = int(10 ** rng.uniform(5.9, 8.7)) * 100
    if rng.random() < 0.7:
        amount_fen -= amount_fen % 10_000_00
    investment_code = None
    if rng.random() < 0.8:
        approved = signed - timedelta(days=rng.randrange(30, 300))
        investment_code = province.ids.investment_code(approved.year, district.code)
    entered = min(signed + timedelta(days=rng.randrange(6)), run_date)
    record = province.project(
        project_id=province.project_id(district, signed),
        district=district,
        builder=party(builder["name"], builder["credit_code"]),
        contractor=party(contractor["name"], contractor["credit_code"]),
        contract_fen=amount_fen,
        signed=signed,
        started=started,
        planned_completion=planned,
        completed=completed,
        status=status,
        investment_code=investment_code,
        updated_at=_last_change(province, max(entered, completed or started or entered)),
    )
    if started and rng.random() < 0.4:
        province.add_version(
            province.projects, record, province.at_office_hours(entered),
            status="pending", started_on=None, permit_no=None, completed_on=None,
        )
    if rng.random() < 0.007:
        province.add_version(
            province.projects, record, _last_change(province, run_date), deleted=True
        )
    return record


def _date(project: dict, name: str) -> date:
    return date.fromisoformat(project[name])


def _date_or_none(project: dict, name: str) -> date | None:
    return project[name] and date.fromisoformat(project[name])


def _wage_accounts(province: Province, project: dict, district: District) -> None:
    rng, run_date = province.rng, province.run_date
    signed = _date(project, "contract_signed_on")
    completed = _date_or_none(project, "completed_on")
    status = project["status"]
    wanted = status in ("under_construction", "suspended", "completed") or (
        status == "pending" and rng.random() < 0.5
    )
    opened = signed + timedelta(days=rng.randrange(3, 45))
    if not wanted or opened > run_date or rng.random() < 0.05:
        return
    pid = project["project_id"]
    if rng.random() < 0.05:  # moved to another bank early on
        first_closed = min(opened - timedelta(days=1), run_date)
        province.wage_account(
            project_id=pid, district=district, opened=signed, filed=signed, closed=first_closed,
            updated_at=province.at_office_hours(first_closed),
        )
    filed = opened + timedelta(days=rng.randrange(1, 28)) if rng.random() < 0.9 else None
    filed = filed if filed and filed <= run_date else None
    closed = completed and completed + timedelta(days=rng.randrange(20, 120))
    closed = closed if closed and closed <= run_date else None
    province.wage_account(
        project_id=pid, district=district, opened=opened, filed=filed, closed=closed,
        updated_at=_last_change(province, closed or filed or opened),
    )
    if rng.random() < 0.005:  # entered twice, the copy deleted
        copy = province.wage_account(
            project_id=pid, district=district, opened=opened, filed=None, closed=None,
            updated_at=province.at_office_hours(opened),
        )
        province.add_version(
            province.wage_accounts, copy, _last_change(province, opened), deleted=True
        )


def _wage_deposit(province: Province, project: dict, contractor_code: str) -> None:
    rng, run_date = province.rng, province.run_date
    started = _date_or_none(project, "started_on")
    completed = _date_or_none(project, "completed_on")
    if started is None or project["status"] == "cancelled" or rng.random() < 0.07:
        return
    contract_fen = int(project["contract_amount"].replace(".", ""))
    if contract_fen < 3_000_000_00 and rng.random() < 0.7:
        return
    rate = rng.choices((0.01, 0.015, 0.02), (85, 10, 5))[0]
    if rng.random() < 0.04:
        rate *= rng.uniform(0.5, 0.99)
    form = rng.choices(("cash", "bank_guarantee", "insurance_policy"), (55, 30, 15))[0]
    deposited = min(started + timedelta(days=rng.randrange(40)), run_date)
    valid_until = None if form == "cash" else deposited + timedelta(days=rng.randrange(365, 1100))
    status = rng.choices(("active", "used", "cancelled"), (97, 2, 1))[0]
    deposit = province.wage_deposit(
        project_id=project["project_id"],
        contractor_credit_code=contractor_code,
        form=form,
        amount_fen=round(contract_fen * rate),
        deposited=deposited,
        valid_until=valid_until,
        status=status,
        updated_at=province.at_office_hours(deposited),
    )
    if completed and rng.random() < 0.7:
        refunded = min(completed + timedelta(days=rng.randrange(30, 90)), run_date)
        province.add_version(
            province.wage_deposits, deposit, _last_change(province, refunded), status="refunded"
        )


def _month_window(run_date: date, count: int) -> list[tuple[str, date, date]]:
    last = month_of(run_date)
    return [(m, *month_bounds(m)) for m in (add_months(last, -i) for i in range(count - 1, -1, -1))]


def _realname(province: Province, project: dict, months: list[tuple[str, date, date]]) -> None:
    """One row per month the project ran, for projects with an attendance system. A
    month's row is last touched before the 5th of the next month, when it closes."""
    rng, run_date = province.rng, province.run_date
    if project["status"] not in ("under_construction", "suspended", "completed"):
        return
    # Every project under way or done has started.
    started = _date(project, "started_on")
    completed = _date_or_none(project, "completed_on")
    if rng.random() < 0.05:
        return
    random = rng.random  # the hot loop of a large world: plain draws, no randrange
    crew = 15 + int(random() * 285)
    pid = project["project_id"]
    for month, first, last in months:
        if started > last or (completed is not None and completed < first):
            continue
        registered = max(1, int(crew * (0.9 + random() * 0.2)))
        rate = 1 - random() * 0.1 if random() < 0.94 else 0.5 + random() * 0.4
        attending = int(registered * rate)
        payroll = attending * (5000 + int(random() * 4000)) * 100
        paid = payroll if random() < 0.93 else int(payroll * (0.5 + random() * 0.49))
        touched = min(last + timedelta(days=1 + int(random() * 4)), run_date)
        province.realname_month(
            project_id=pid, month=month, registered=registered, attending=attending,
            payroll_fen=payroll, paid_via_contractor_fen=paid,
            updated_at=province.at_office_hours(touched),
        )


def _investment(province: Province, project: dict, district: District, builder: dict) -> None:
    rng = province.rng
    signed = _date(project, "contract_signed_on")
    completed = _date_or_none(project, "completed_on")
    government = any(t in builder["name"] for t in _GOVERNMENT_TRADES) or rng.random() < 0.15
    total_fen = int(int(project["contract_amount"].replace(".", "")) * rng.uniform(1.1, 1.8))
    code = project["investment_code"]
    province.investment_project(
        code=code,
        name=project["name"],
        district=district,
        owner=builder,
        government=government,
        total_fen=total_fen,
        approved=signed - timedelta(days=rng.randrange(30, 300)),
        status=_DEVREFORM_STATUS[project["status"]],
    )
    if government and project["status"] in ("under_construction", "suspended", "completed"):
        _disbursements(province, code, total_fen, signed, completed)


def _disbursements(
    province: Province, code: str, total_fen: int, signed: date, completed: date | None
) -> None:
    """Monthly payments into a government-invested project; now and then a month is
    skipped or its labour share left at zero or blank, as GI1 looks for."""
    rng, run_date = province.rng, province.run_date
    first, last = month_of(signed), month_of(min(completed or run_date, run_date))
    random = rng.random
    for month in _disbursement_months(run_date):
        if not first <= month <= last or random() < 0.03:
            continue
        planned = int(total_fen * (0.01 + random() * 0.04))
        actual = int(planned * (0.7 + random() * 0.3))
        draw = random()
        labour = "0" if draw < 0.04 else "" if draw < 0.06 else wan_yuan(int(actual * 0.2))
        province.disbursement(
            code=code, month=month, planned_fen=planned, actual_fen=actual, labour=labour
        )


@functools.cache
def _disbursement_months(run_date: date) -> tuple[str, ...]:
    last = month_of(run_date)
    return tuple(add_months(last, -i) for i in range(_DISBURSEMENT_MONTHS - 1, -1, -1))


def _investment_without_housing_project(province: Province, owner: dict) -> None:
    """Dev-reform knows projects the housing system has not seen yet."""
    rng, run_date = province.rng, province.run_date
    district = rng.choices(DISTRICTS, cum_weights=_DISTRICT_WEIGHTS)[0]
    approved = run_date - timedelta(days=rng.randrange(10, 400))
    province.investment_project(
        code=province.ids.investment_code(approved.year, district.code),
        name=province.names.project(district),
        district=district,
        owner=owner,
        government=rng.random() < 0.3,
        total_fen=int(10 ** rng.uniform(6, 9)) * 100,
        approved=approved,
        status="未开工",
    )
