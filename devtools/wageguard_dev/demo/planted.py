"""Projects built to sit exactly on, and just beside, the edge of every rule in rules.md
and of every way a party can resolve.

Each case is stated relative to the run date D by construction: dates and amounts are
chosen so that the outcome is known, never computed by evaluating a rule. Every planted
project starts from one compliant template (signed D-400, works started 20 days later,
an account opened and filed in time, a cash deposit of exactly the required amount,
clean real-name months, clean parties, no investment code) and changes only what its
case is about, so a planted project raises exactly the flags listed as expected for it.

Ids are `ZJ<district>-<year>-9FNNN`, F the case family: 0 scope, 1 WA1, 2 WA2, 3 WD1,
4 WD2, 5 WD3, 6 CR1/CR2, 7 GI1, 8 PAY1/RN1, 9 resolution (`8FNNN` are the lifecycle
cases, lifecycle.py). The province's own projects are numbered from 1 per district and
year and never reach 80000."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from .cases import BlankCase, DirtyRecord, PlantedCase, ResolutionCase, record_key
from .identifiers import DISTRICT_BY_CODE, DISTRICTS, District
from .records import (
    Province,
    add_months,
    add_years,
    full_width,
    latest_closed_month,
    month_bounds,
    month_of,
    party,
)

# WA1's severity depends on the start of works, so its cases name it.
BASE_SEVERITY = {
    "WA2": "yellow", "WD1": "red", "WD2": "orange", "WD3": "yellow", "CR1": "red",
    "CR2": "orange", "GI1": "orange", "PAY1": "orange", "RN1": "yellow",
}
_CONTRACT_FEN = 12_500_000_00
REQUIRED_FEN = 125_000_00  # 1% of the template contract
_WAGE_FEN = 7_800_00
_LABOUR_PAID = "25.5"  # 万元 a month into the special account


class _Template(enum.Enum):
    DEFAULT = enum.auto()


DEFAULT = _Template.DEFAULT


def required_deposit_fen(contract_fen: int, multiplier: str = "1") -> int:
    """1% of the contract times the multiplier a case was built to have, half up to the fen."""
    exact = Decimal(contract_fen) * Decimal("0.01") * Decimal(multiplier)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def typed(
    company: dict, *, name: str | None = None, code: str | _Template | None = DEFAULT
) -> dict:
    """A party as an office typed it: the company's own name and code unless told."""
    return party(
        company["name"] if name is None else name,
        company["credit_code"] if code is DEFAULT else code,
    )


def by_former_name(company: dict) -> dict:
    """The party as an office that still knows the company by its old name typed it."""
    return typed(company, name=company["former_names"][0], code=None)


class Planter:
    """The template and the bookkeeping shared by every family of cases."""

    def __init__(self, province: Province):
        self.province = province
        self.D = province.run_date
        self.m1 = latest_closed_month(self.D)  # the month PAY1 and RN1 read
        self.m2 = add_months(self.m1, -1)  # with m1, the months GI1 reads
        self.current = month_of(self.D)  # not closed on D
        self.cases: list[PlantedCase] = []
        self.resolutions: list[ResolutionCase] = []
        self.malformed: list[DirtyRecord] = []
        self.blanks: list[BlankCase] = []
        self._districts = itertools.cycle(DISTRICTS)
        self.clean_builder = self.company(builder=True)
        self.clean_contractor = self.company()

    def day(self, offset: int) -> date:
        return self.D + timedelta(days=offset)

    def next_district(self) -> District:
        """Planted projects and companies take the districts in turn, so every
        district's inspectors see some."""
        return next(self._districts)

    def when(self, day: date) -> str:
        """Office hours on `day`, or on D for a day still ahead (typed in advance)."""
        return self.province.at_office_hours(min(day, self.D))

    def expect(
        self, project: dict, rule: str, expected: bool, note: str, severity: str | None = None
    ) -> None:
        severity = (severity or BASE_SEVERITY[rule]) if expected else None
        self.cases.append(PlantedCase(project["project_id"], rule, expected, severity, note))

    def blank(self, table: str, record: dict, *columns: str, note: str) -> None:
        """Leaves descriptive `columns` of `record` blank, as offices do."""
        for column in columns:
            record[column] = ""
            self.blanks.append(BlankCase(table, record_key(table, record), column, note))

    def expect_resolution(
        self, project: dict, role: str, status: str, code: str | None, note: str
    ) -> None:
        self.resolutions.append(ResolutionCase(project["project_id"], role, status, code, note))

    # --- the register and the lists ---------------------------------------------------

    def company(
        self,
        *,
        builder: bool = False,
        name: str | None = None,
        credit_code: str | None = None,
        renamed: bool = False,
        former_names: tuple[str, ...] = (),
        legacy: bool = False,
        status: str = "active",
    ) -> dict:
        """A register company. `name` must come from the name book (so it is unique);
        `former_names` are taken as given, which is how an ambiguity is planted."""
        names, district = self.province.names, self.next_district()
        if renamed:
            former_names = (names.company(district, builder=builder),)
        return self.province.enterprise(
            district=district,
            name=name or names.company(district, builder=builder),
            credit_code=credit_code or self.province.ids.credit_code(district.code),
            former_names=former_names,
            legacy_registration_no=(
                self.province.ids.legacy_registration_no(district.code) if legacy else None
            ),
            status=status,
            updated_at=self.when(self.day(-3000)),
        )

    def entry(
        self,
        company: dict,
        *,
        listed: date,
        list_type: str = "dishonest",
        expires: date | None = None,
        removed: date | None = None,
        person: str | None = None,
    ) -> dict:
        return self.province.list_entry(
            subject=company,
            list_type=list_type,
            listed=listed,
            expires=expires or add_years(listed, 3),
            removed=removed,
            person=person,
            updated_at=self.when(max(listed, removed or listed)),
        )

    # --- projects ---------------------------------------------------------------------

    def project(
        self,
        serial: int,
        *,
        status: str = "under_construction",
        signed: date | None = None,
        started: date | _Template | None = DEFAULT,
        planned_completion: date | _Template | None = DEFAULT,
        completed: date | None = None,
        contract_fen: int = _CONTRACT_FEN,
        builder: dict | None = None,
        contractor: dict | None = None,
        account: bool = True,
        deposit: bool = True,
        realname: Mapping[str, dict | None] | None = None,
        investment_code: str | None = None,
        district: District | None = None,
    ) -> dict:
        """The compliant template changed as a case says. `builder` and `contractor` are
        parties as typed; `realname` overrides months of the template (None: no row)."""
        signed = signed or self.day(-400)
        if started is DEFAULT:
            started = None if status in ("pending", "cancelled") else signed + timedelta(days=20)
        district = district or self.next_district()
        record = self.province.project(
            project_id=self.province.project_id(district, signed, serial),
            district=district,
            builder=builder or typed(self.clean_builder),
            contractor=contractor or typed(self.clean_contractor),
            contract_fen=contract_fen,
            signed=signed,
            started=started,
            planned_completion=(
                self.day(300) if planned_completion is DEFAULT else planned_completion
            ),
            completed=completed,
            status=status,
            investment_code=investment_code,
            updated_at=self.when(completed or started or signed),
        )
        if account:
            self.account(
                record, opened=signed + timedelta(days=10), filed=signed + timedelta(days=15)
            )
        if started is not None and started <= self.D:
            if deposit:
                self.deposit(record, required_deposit_fen(contract_fen), deposited=started)
            self._realname(record["project_id"], started, completed, realname or {})
        return record

    def account(
        self,
        project: dict,
        *,
        opened: date,
        filed: date | None = None,
        closed: date | None = None,
        status: str | None = None,
    ) -> dict:
        last_touched = max(d for d in (opened, filed, closed) if d)
        return self.province.wage_account(
            project_id=project["project_id"],
            district=DISTRICT_BY_CODE[project["district_code"]],
            opened=opened,
            filed=filed,
            closed=closed,
            status=status,
            updated_at=self.when(last_touched),
        )

    def deposit(
        self,
        project: dict,
        amount_fen: int,
        *,
        deposited: date,
        form: str = "cash",
        valid_until: date | None = None,
        status: str = "active",
        entered: date | None = None,
    ) -> dict:
        """`entered`: the day an office typed it in, when that is later than `deposited`."""
        return self.province.wage_deposit(
            project_id=project["project_id"],
            contractor_credit_code=project["contractor"]["credit_code"],
            form=form,
            amount_fen=amount_fen,
            deposited=deposited,
            valid_until=valid_until,
            status=status,
            updated_at=self.when(entered or deposited),
        )

    def _realname(
        self, project_id: str, started: date, completed: date | None,
        overrides: Mapping[str, dict | None],
    ) -> None:
        # The housing system serves the last 12 months, the current one included.
        month = max(month_of(started), add_months(self.current, -11))
        last = month_of(min(completed or self.D, self.D))
        while month <= last:
            override = overrides.get(month, {})
            if override is not None:
                row = {"registered": 100, "attending": 96, **override}
                payroll = row.get("payroll_fen", row["attending"] * _WAGE_FEN)
                closes = month_bounds(month)[1] + timedelta(days=2)
                self.province.realname_month(
                    project_id=project_id,
                    month=month,
                    registered=row["registered"],
                    attending=row["attending"],
                    payroll_fen=payroll,
                    paid_via_contractor_fen=row.get("paid_fen", payroll),
                    updated_at=self.when(closes),
                )
            month = add_months(month, 1)

    def realname_row(self, project: dict, month: str) -> dict:
        return next(
            r for r in self.province.realname_monthly
            if r["project_id"] == project["project_id"] and r["month"] == month
        )


def plant(province: Province) -> Planter:
    planter = Planter(province)
    families = (_scope, _wa1, _wa2, _wd1, _wd2, _wd3, _cr1, _cr2, _gi1, _pay1, _rn1, _resolution)
    for family in families:
        family(planter)
    return planter


def _scope(pl: Planter) -> None:
    p = pl.province
    pr = pl.project(90001, status="pending", signed=pl.day(10), account=False)
    pl.expect(pr, "WA1", False, "pending, signed after D: not active, so no rule applies")
    pr = pl.project(90002, status="pending", signed=pl.day(-60), account=False)
    pl.expect(pr, "WA1", True, "pending, signed D-60 (so active), no account, not started",
              "orange")
    pr = pl.project(90003, status="completed", completed=pl.day(-100), account=False, deposit=False)
    pl.expect(pr, "WA1", False, "completed: no rule applies though it has no account")
    pl.expect(pr, "WD1", False, "completed: no rule applies though it has no deposit")
    pr = pl.project(90004, status="cancelled", account=False)
    pl.expect(pr, "WA1", False, "cancelled: no rule applies though it has no account")
    pr = pl.project(90005, account=False, deposit=False)
    p.add_version(p.projects, pr, pl.when(pl.day(-3)), deleted=True)
    pl.expect(pr, "WA1", False, "deleted (a tombstone is its latest version): raises nothing")
    pl.expect(pr, "WD1", False, "deleted (a tombstone is its latest version): raises nothing")
    pr = pl.project(90006, status="suspended", account=False)
    pl.expect(pr, "WA1", True, "suspended is active whatever its dates; no account", "red")
    pr = pl.project(90007, account=False)
    p.add_version(p.projects, pr, pl.when(pl.day(-2)), status="completed",
                  completed_on=pl.day(-2).isoformat())
    pl.expect(pr, "WA1", False, "earlier version under construction, latest completed")
    pr = pl.project(90008, account=False)
    p.add_version(p.projects, pr, pl.when(pl.day(-50)), status="completed",
                  completed_on=pl.day(-50).isoformat())
    p.add_version(p.projects, pr, pl.when(pl.day(-10)))
    pl.expect(pr, "WA1", True, "completed in an earlier version, under construction again "
              "in the latest", "red")


def _wa1(pl: Planter) -> None:
    p = pl.province
    pr = pl.project(91001, signed=pl.day(-30), started=pl.day(-5), account=False)
    pl.expect(pr, "WA1", False, "signed exactly 30 days before D, no account: not yet due")
    pr = pl.project(91002, signed=pl.day(-31), started=pl.D, account=False)
    pl.expect(pr, "WA1", True, "signed 31 days before D, no account, works started on D", "red")
    pr = pl.project(91003, status="pending", signed=pl.day(-31), account=False)
    pl.expect(pr, "WA1", True, "pending, signed 31 days before D, not started", "orange")
    pr = pl.project(91004, account=False)
    account = pl.account(pr, opened=pl.day(-390), filed=pl.day(-385))
    p.add_version(p.wage_accounts, account, pl.when(pl.D), closed_on=pl.D.isoformat(),
                  status="closed")
    pl.expect(pr, "WA1", True, "its only account closed on D (latest version)", "red")
    pr = pl.project(91005, account=False)
    pl.account(pr, opened=pl.day(-390), filed=pl.day(-385), closed=pl.day(1), status="closed")
    pl.expect(pr, "WA1", False, "account closes the day after D (status already 'closed'): open")
    pr = pl.project(91006, account=False)
    account = pl.account(pr, opened=pl.day(-390), filed=pl.day(-385))
    p.add_version(p.wage_accounts, account, pl.when(pl.day(-1)), deleted=True)
    pl.expect(pr, "WA1", True, "its only account is deleted: it never existed", "red")
    pr = pl.project(91007, account=False)
    pl.account(pr, opened=pl.day(1))
    pl.expect(pr, "WA1", True, "its only account opens the day after D", "red")
    pr = pl.project(91008, account=False)
    pl.account(pr, opened=pl.D)
    pl.expect(pr, "WA1", False, "account opened on D")
    pl.expect(pr, "WA2", False, "account opened on D, not filed: filing not yet due")
    pr = pl.project(91010, account=False)
    account = pl.account(pr, opened=pl.day(-390), filed=pl.day(-385))
    pl.blank("wage_accounts", account, "bank_name",
             note="a compliant project's only account, its bank name blank")
    pl.expect(pr, "WA1", False, "its only account has a blank bank name: the account is open")
    pl.expect(pr, "WA2", False, "its only account has a blank bank name: filed in time")
    pr = pl.project(91011, account=False)
    pl.blank("projects", pr, "name", note="a project without an account, its name blank")
    pl.expect(pr, "WA1", True, "no account; its name is blank, which changes nothing", "red")
    pr = pl.project(91009, account=False)
    pl.account(pr, opened=pl.day(-390), filed=pl.day(-385), closed=pl.day(-10), status="open")
    pl.expect(pr, "WA1", True, "account says 'open' but closed D-10: status is not read", "red")


def _wa2(pl: Planter) -> None:
    for serial, opened, filed, expected, note in (
        (92001, -31, None, True, "account opened 31 days before D, never filed"),
        (92002, -30, None, False, "account opened exactly 30 days before D, not filed: not due"),
        (92003, -59, 1, True, "account filed the day after D"),
        (92004, -59, 0, False, "account filed on D"),
    ):
        pr = pl.project(serial, signed=pl.day(-60), account=False)
        pl.account(pr, opened=pl.day(opened), filed=None if filed is None else pl.day(filed))
        pl.expect(pr, "WA2", expected, note)
    pr = pl.project(92006, signed=pl.day(-60), account=False)
    account = pl.account(pr, opened=pl.day(-31))
    pl.blank("wage_accounts", account, "bank_name",
             note="an account never filed, its bank name blank")
    pl.expect(pr, "WA2", True, "account opened D-31, never filed, its bank name blank")
    pl.expect(pr, "WA1", False, "its account (bank name blank) is open")
    pr = pl.project(92005, signed=pl.day(-60), account=False)
    pl.account(pr, opened=pl.day(-59), closed=pl.day(-5))
    pl.account(pr, opened=pl.day(-6), filed=pl.day(-4))
    pl.expect(pr, "WA2", False, "the unfiled account closed before D; the open one is filed")


def _wd1(pl: Planter) -> None:
    p = pl.province
    pr = pl.project(93001, deposit=False, planned_completion=pl.D)
    pl.deposit(pr, REQUIRED_FEN, deposited=pl.day(-380), form="bank_guarantee",
               valid_until=pl.D)
    pl.expect(pr, "WD1", False, "bank guarantee valid until D: covers D")
    pl.expect(pr, "WD3", False, "guarantee lapses on D, not before planned completion (also D)")
    pr = pl.project(93002, deposit=False)
    pl.deposit(pr, REQUIRED_FEN, deposited=pl.day(-380), form="bank_guarantee",
               valid_until=pl.day(-1))
    pl.expect(pr, "WD1", True, "its only guarantee ended D-1")
    for serial, status in ((93003, "used"), (93004, "refunded")):
        pr = pl.project(serial, deposit=False)
        pl.deposit(pr, REQUIRED_FEN, deposited=pl.day(-380), status=status)
        pl.expect(pr, "WD1", True, f"its only deposit has status {status}")
    pr = pl.project(93005, contract_fen=2_999_999_99, started=pl.day(-100), deposit=False)
    pl.expect(pr, "WD1", False, "exempt: contract 2,999,999.99 < 3,000,000, clean contractor")
    pr = pl.project(93006, contract_fen=3_000_000_00, started=pl.day(-100), deposit=False)
    pl.expect(pr, "WD1", True, "contract exactly 3,000,000.00 is not below the exemption line")
    pr = pl.project(93007, signed=pl.day(-60), started=pl.day(-30), deposit=False)
    pl.expect(pr, "WD1", False, "works started exactly 30 days before D, no deposit: not due")
    pr = pl.project(93008, signed=pl.day(-60), started=pl.day(-31), deposit=False)
    pl.expect(pr, "WD1", True, "works started 31 days before D, no deposit")
    pr = pl.project(93009, deposit=False)
    made = pl.deposit(pr, REQUIRED_FEN, deposited=pl.day(-380))
    p.add_version(p.wage_deposits, made, pl.when(pl.day(-1)), deleted=True)
    pl.expect(pr, "WD1", True, "its only deposit is deleted: it never existed")
    pr = pl.project(93010, deposit=False)
    pl.deposit(pr, REQUIRED_FEN, deposited=pl.day(1))
    pl.expect(pr, "WD1", True, "its only deposit is lodged the day after D")
    _exemption_history(pl)
    pr = pl.project(93015, contract_fen=2_000_000_00, deposit=False,
                    contractor=party("鄂尔多斯市某某建筑劳务有限公司", None))
    pl.expect(pr, "WD1", True,
              "contract < 3,000,000 but the contractor is unresolved: no exemption")
    pl.expect_resolution(pr, "contractor", "absent", None, "name in no register record, no code")
    pr = pl.project(93016, status="pending", signed=pl.day(-20), deposit=False)
    pl.expect(pr, "WD1", False, "pending, works not started, no deposit")


def _exemption_history(pl: Planter) -> None:
    """Contracts of 2,500,000 without a deposit whose contractor has a major_violation
    entry listed near the signing day S: within a year of S it loses the exemption."""
    signed = pl.day(-400)
    leap_day = next(
        date(year, 2, 29) for year in range(pl.D.year, 1999, -1)
        if year % 4 == 0 and date(year, 2, 29) <= pl.day(-60)
    )
    for serial, signed_on, listed, expected, note in (
        (93011, signed, signed - timedelta(days=200), True, "listed 200 days before S"),
        (93012, signed, add_years(signed, -1), True, "listed exactly 1 year before S"),
        (93013, signed, add_years(signed, -1) - timedelta(days=1), False,
         "listed 1 year and 1 day before S: still exempt"),
        (93014, leap_day, date(leap_day.year - 1, 2, 28), True,
         "S is 29 Feb, listed 28 Feb the year before: within 1 year (not S-365 days)"),
    ):
        contractor = pl.company()
        pl.entry(contractor, listed=listed, list_type="major_violation",
                 expires=add_years(listed, 1))
        pr = pl.project(serial, signed=signed_on, contract_fen=2_500_000_00,
                        contractor=typed(contractor), deposit=False)
        pl.expect(pr, "WD1", expected, f"contract 2,500,000, no deposit, contractor's "
                  f"major_violation {note}")


def _wd2(pl: Planter) -> None:
    signed = pl.day(-400)
    lodged = signed + timedelta(days=20)
    for serial, short in ((94001, 0), (94002, 1)):
        contractor = pl.company()
        pl.entry(contractor, listed=signed - timedelta(days=300),
                 removed=signed - timedelta(days=30))
        pr = pl.project(serial, contract_fen=10_000_000_00, contractor=typed(contractor),
                        deposit=False)
        pl.deposit(pr, 150_000_00 - short, deposited=lodged)
        pl.expect(pr, "WD2", bool(short), "dishonest entry removed early (信用修复) before S, "
                  "listed within 2 years of S: x1.5, required 150,000.00; deposit "
                  + ("one fen short" if short else "exactly that"))
    for serial, short in ((94003, 0), (94004, 1)):
        contractor = pl.company()
        pl.entry(contractor, listed=signed, removed=signed + timedelta(days=60))
        pr = pl.project(serial, contract_fen=8_000_000_00, contractor=typed(contractor),
                        deposit=False)
        pl.deposit(pr, 160_000_00 - short, deposited=lodged)
        pl.expect(pr, "WD2", bool(short), "dishonest entry applies on S (listed on S, removed "
                  "S+60): x2.0, required 160,000.00; deposit "
                  + ("one fen short" if short else "exactly that"))
    for serial, short in ((94005, 1), (94006, 0)):
        pr = pl.project(serial, contract_fen=12_345_678_50, deposit=False)
        pl.deposit(pr, 123_456_79 - short, deposited=lodged)
        pl.expect(pr, "WD2", bool(short), "contract 12,345,678.50: 1% is 123,456.785, half up "
                  "123,456.79 (half-even and float give .78); deposit "
                  + ("123,456.78" if short else "123,456.79"))
    pr = pl.project(94007, deposit=False)
    pl.deposit(pr, 100_000_00, deposited=lodged)
    pl.deposit(pr, 25_000_00, deposited=lodged, form="bank_guarantee", valid_until=pl.day(400))
    pl.expect(pr, "WD2", False, "cash 100,000 and a guarantee of 25,000 both cover D: 125,000")
    pr = pl.project(94008, deposit=False)
    pl.deposit(pr, 100_000_00, deposited=lodged)
    pl.deposit(pr, 25_000_00, deposited=lodged, status="refunded")
    pl.expect(pr, "WD2", True, "cash 100,000 active and 25,000 refunded: covering 100,000")
    for serial, listed, short, note in (
        (94009, add_years(signed, -2) - timedelta(days=1), False,
         "listed 2 years and 1 day before S: x1, required 125,000.00"),
        (94010, add_years(signed, -2), True, ("listed exactly 2 years before S: x1.5, "
         "required 187,500.00")),
    ):
        contractor = pl.company()
        pl.entry(contractor, listed=listed, list_type="major_violation",
                 expires=add_years(listed, 1))
        pr = pl.project(serial, contractor=typed(contractor), deposit=False)
        pl.deposit(pr, REQUIRED_FEN, deposited=lodged)
        pl.expect(pr, "WD2", short, f"contractor's major_violation {note}; deposit 125,000.00")


def _wd3(pl: Planter) -> None:
    for serial, form, lapses, completion, expected, note in (
        (95001, "bank_guarantee", 30, 200, True, "guarantee lapses D+30, completion D+200"),
        (95002, "bank_guarantee", 31, 200, False, "guarantee lapses D+31: beyond the warning"),
        (95003, "insurance_policy", 0, 200, True, "policy lapses on D (it still covers D)"),
        (95004, "bank_guarantee", 10, 5, False, "lapses D+10, after planned completion D+5"),
        (95005, "bank_guarantee", 10, None, False, "lapses D+10, no planned completion"),
        (95006, "bank_guarantee", 20, 20, False, "lapses on the planned completion day"),
    ):
        planned = None if completion is None else pl.day(completion)
        pr = pl.project(serial, planned_completion=planned, deposit=False)
        pl.deposit(pr, REQUIRED_FEN, deposited=pl.day(-380), form=form,
                   valid_until=pl.day(lapses))
        pl.expect(pr, "WD3", expected, note)


def _cr1(pl: Planter) -> None:
    """Contractors with list entries, all listed after the signing day (so the deposit
    multiplier stays 1)."""
    p = pl.province

    def case(serial: int, expected: bool, note: str, company: dict | None = None,
             as_typed: Callable[[dict], dict] = typed, **entry) -> tuple[dict, dict]:
        company = company or pl.company()
        if entry:
            pl.entry(company, **entry)
        pr = pl.project(serial, contractor=as_typed(company))
        pl.expect(pr, "CR1", expected, note)
        return pr, company

    case(96001, True, "organisation dishonest entry listed D-100", listed=pl.day(-100))
    case(96002, False, "entry expires on D (its first day of not applying)",
         listed=pl.day(-365), expires=pl.D)
    case(96003, False, "entry removed on D (信用修复)", listed=pl.day(-100), removed=pl.D)
    case(96004, True, "entry listed on D", listed=pl.D)
    case(96005, False, "major_violation entry only", listed=pl.day(-100),
         list_type="major_violation")
    case(96006, False, "only a person entry, carrying the company's code",
         listed=pl.day(-100), person=p.names.person())
    pr, company = case(96007, False, "its entry is tombstoned")
    made = pl.entry(company, listed=pl.day(-100))
    p.add_version(p.list_entries, made, pl.when(pl.day(-1)), deleted=True)
    pr, company = case(96013, False, "its entry's latest version removes it on D-3")
    made = pl.entry(company, listed=pl.day(-100))
    p.add_version(p.list_entries, made, pl.when(pl.day(-3)),
                  removed_on=pl.day(-3).isoformat(), removal_reason="信用修复")
    case(96012, True, "entry removed the day after D: applies on D", listed=pl.day(-100),
         removed=pl.day(1))
    case(96014, False, "entry listed the day after D", listed=pl.day(1))
    pr, company = case(96015, False, "only a person entry (its subject name blank)")
    made = pl.entry(company, listed=pl.day(-100), person=p.names.person())
    pl.blank("list_entries", made, "subject_name",
             note="a dishonest person entry applying on D, the person's name blank")
    pr, company = case(96016, True, "dishonest entry whose cause and authority are blank")
    made = pl.entry(company, listed=pl.day(-100))
    pl.blank("list_entries", made, "cause", "listing_authority",
             note="an organisation's dishonest entry applying on D, cause and authority blank")
    pr, company = case(96017, True, "a listed contractor whose register name is blank",
                       listed=pl.day(-100))
    pl.blank("enterprises", company, "name", note="a register company, its name blank")
    pl.expect_resolution(pr, "contractor", "resolved", company["credit_code"],
                         "typed with its code; the register's name is blank")
    for serial, company, as_typed, how in (
        (96008, pl.company(renamed=True), by_former_name, "its former name, no code"),
        (96009, pl.company(legacy=True), lambda c: typed(c, code=c["legacy_registration_no"]),
         "its 15-digit registration number in the code field"),
        (96010, pl.company(), lambda c: typed(c, code=None), "its current name, no code"),
        (96011, pl.company(), lambda c: typed(c, code=full_width(c["credit_code"].lower())),
         "its code in lower-case full-width characters"),
    ):
        pr, _ = case(serial, True, f"contractor typed by {how}: resolves to a listed company",
                     company, as_typed, listed=pl.day(-100))
        pl.expect_resolution(pr, "contractor", "resolved", company["credit_code"], how)


def _cr2(pl: Planter) -> None:
    for serial, expected, note, entry, as_typed in (
        (96101, True, "builder's dishonest entry listed D-100", {"listed": pl.day(-100)}, typed),
        (96102, False, "builder's entry expires on D",
         {"listed": pl.day(-365), "expires": pl.D}, typed),
        (96103, True, "builder typed by its former name only: resolves to a listed company",
         {"listed": pl.day(-100)}, by_former_name),
        (96104, False, "builder has only a person entry",
         {"listed": pl.day(-100), "person": "赵建国"}, typed),
        (96105, False, "builder has only a major_violation entry",
         {"listed": pl.day(-100), "list_type": "major_violation"}, typed),
    ):
        builder = pl.company(builder=True, renamed=True)
        pl.entry(builder, **entry)
        pr = pl.project(serial, builder=as_typed(builder))
        pl.expect(pr, "CR2", expected, note)
        if as_typed is by_former_name:
            pl.expect_resolution(pr, "builder", "resolved", builder["credit_code"],
                                 "former name, no code")


def _gi1(pl: Planter) -> None:
    """Projects linked to a dev-reform project by investment code. m1 and m2 are the two
    most recent months closed on D; the current month is not closed."""
    m1, m2, current = pl.m1, pl.m2, pl.current
    paid = _LABOUR_PAID
    for serial, expected, note, labour, options in (
        (97001, True, "labour 0 in m2, no row for m1", {m2: "0", m1: None}, {}),
        (97002, True, "labour blank in m2 and m1", {m2: "", m1: ""}, {}),
        (97003, False, "labour 0 in m2 but paid in m1", {m2: "0", m1: paid}, {}),
        (97004, True, "no rows for m2 and m1; the current month (not closed) is paid",
         {m2: None, m1: None, current: paid}, {}),
        (97005, True, "labour 0.000000 in m2; m1's row is malformed (labour 待定) so ignored",
         {m2: "0.000000", m1: "待定"}, {}),
        (97006, False, "not government-invested (否), so no disbursements at all",
         {}, {"government": False}),
        (97007, True, "是 typed with spaces, housing code typed as 20 bare digits; no rows",
         {m2: None, m1: None}, {"government_as": " 是 ", "housing_as": _bare}),
        (97008, True, "housing code typed full-width with underscores; labour 0 both months",
         {m2: "0", m1: "0"}, {"housing_as": _full_width_underscored}),
        (97009, False, "disbursement rows carry the code full-width; paid both months",
         {m2: paid, m1: paid}, {"disbursement_as": full_width}),
        (97010, False, "housing code not in the dev-reform bundle: not linked",
         {m2: None, m1: None}, {"in_bundle": False}),
        (97011, False, "labour typed in full-width digits both months",
         {m2: full_width(paid), m1: full_width(paid)}, {}),
    ):
        pr = _government_project(pl, serial, labour, **options)
        pl.expect(pr, "GI1", expected, note)


def _bare(code: str) -> str:
    return code.replace("-", "")


def _full_width_underscored(code: str) -> str:
    return full_width(code.replace("-", "_"))


def _government_project(
    pl: Planter,
    serial: int,
    labour: Mapping[str, str | None],
    *,
    government: bool = True,
    government_as: str | None = None,
    housing_as: Callable[[str], str] = str,
    disbursement_as: Callable[[str], str] = str,
    in_bundle: bool = True,
) -> dict:
    """A project whose dev-reform twin was paid its labour share every month from six
    months before m1 to the current one, except as `labour` says (None: no row)."""
    p = pl.province
    signed, district = pl.day(-400), pl.next_district()
    code = p.ids.investment_code(signed.year, district.code)
    pr = pl.project(serial, signed=signed, investment_code=housing_as(code), district=district)
    if not in_bundle:
        return pr
    row = p.investment_project(
        code=code, name=pr["name"], district=district, owner=pr["builder"],
        government=government, total_fen=20_000_000_00, approved=signed - timedelta(days=60),
        status="在建",
    )
    if government_as:
        row["是否政府投资"] = government_as
    if not government:
        return pr  # only government-invested projects have disbursements
    month = add_months(pl.m1, -6)
    while month <= pl.current:
        written = labour.get(month, _LABOUR_PAID)
        if written is not None:
            p.disbursement(code=disbursement_as(code), month=month, planned_fen=300_000_000,
                           actual_fen=300_000_000, labour=written)
        if written == "待定":
            pl.malformed.append(DirtyRecord(
                "fund_disbursements", (disbursement_as(code), month.replace("-", "")),
                "labour amount 待定 is not a number",
            ))
        month = add_months(month, 1)
    return pr


def _pay1(pl: Planter) -> None:
    p, m1, m2 = pl.province, pl.m1, pl.m2
    for serial, expected, note, months in (
        (98001, True, "m1 paid 99,999.99 of a 100,000.00 payroll",
         {m1: {"payroll_fen": 100_000_00, "paid_fen": 99_999_99}}),
        (98002, False, "m1 paid exactly its payroll",
         {m1: {"payroll_fen": 100_000_00, "paid_fen": 100_000_00}}),
        (98003, False, "no row for m1 (m2 was short)", {m1: None, m2: {"paid_fen": 1_00}}),
        (98004, False, "m1 paid in full; the current month (not closed) is short",
         {pl.current: {"paid_fen": 1_00}}),
        (98008, False, "m1 payroll 0 and paid 0", {m1: {"registered": 0, "attending": 0}}),
    ):
        pr = pl.project(serial, realname=months)
        pl.expect(pr, "PAY1", expected, note)
    for serial, paid, expected in ((98005, "1,249,999.99", True), (98006, "1,250,000.00", False)):
        pr = pl.project(serial)
        pl.realname_row(pr, m1).update(payroll_amount="1,250,000.00",
                                       paid_via_contractor_amount=paid)
        pl.expect(pr, "PAY1", expected, f"m1 amounts typed with separators: paid {paid} "
                  "of 1,250,000.00")
    pr = pl.project(98007, realname={m1: {"paid_fen": 1_00}})
    row = pl.realname_row(pr, m1)
    p.add_version(p.realname_monthly, row, pl.when(pl.day(-1)),
                  paid_via_contractor_amount=row["payroll_amount"])
    pl.expect(pr, "PAY1", False, "m1's first version was short, its latest pays in full")


def _rn1(pl: Planter) -> None:
    m1, m2 = pl.m1, pl.m2
    for serial, expected, note, months in (
        (98101, True, "m1 89 of 100 attending", {m1: {"registered": 100, "attending": 89}}),
        (98102, False, "m1 90 of 100 attending: exactly 0.90",
         {m1: {"registered": 100, "attending": 90}}),
        (98103, False, "m1 no registered workers", {m1: {"registered": 0, "attending": 0}}),
        (98104, False, "no row for m1 (m2 was low)", {m1: None, m2: {"attending": 10}}),
        (98105, False, "m1 fine; the current month (not closed) is low",
         {pl.current: {"attending": 10}}),
        (98106, False, "m1 9 of 10 attending: exactly 0.90",
         {m1: {"registered": 10, "attending": 9}}),
        (98107, True, "m1 899 of 1000 attending", {m1: {"registered": 1000, "attending": 899}}),
    ):
        pr = pl.project(serial, realname=months)
        pl.expect(pr, "RN1", expected, note)


def _resolution(pl: Planter) -> None:
    """Parties typed every way the contracts warn of, on otherwise clean projects."""
    p = pl.province

    def case(serial: int, company: dict | None, as_typed: dict, status: str, note: str,
             role: Literal["builder", "contractor"] = "contractor") -> None:
        if role == "builder":
            pr = pl.project(serial, builder=as_typed)
        else:
            pr = pl.project(serial, contractor=as_typed)
        code = company["credit_code"] if company and status == "resolved" else None
        pl.expect_resolution(pr, role, status, code, note)

    company = pl.company(credit_code=p.ids.credit_code_failing_check("150203"))
    case(99001, company, typed(company), "resolved",
         "code fails the GB 32100 check but is in the register: the register wins")
    company = pl.company()
    case(99002, company, typed(company, code=company["credit_code"].lower()), "resolved",
         "code typed lower-case")
    company = pl.company()
    case(99003, company, typed(company, code=full_width(company["credit_code"])), "resolved",
         "code typed in full-width characters")
    company = pl.company(legacy=True)
    case(99004, company, typed(company, code=company["legacy_registration_no"]), "resolved",
         "15-digit registration number in the code field")
    company = pl.company(renamed=True)
    case(99005, company, by_former_name(company), "resolved", "former name, no code")
    district = DISTRICTS[3]
    company = pl.company(name=p.names.company(district, builder=False, suffix="（集团）有限公司"))
    spaced = company["name"].replace("（", " (").replace("）", ") ").replace("有限", "有 限")
    case(99006, company, typed(company, name=spaced, code=None), "resolved",
         "name typed with () for （） and inner spaces, no code")
    holder = pl.company()
    pl.company(former_names=(holder["name"],))
    case(99007, holder, typed(holder, code=None), "ambiguous",
         "name is one company's current name and another's former name")
    case(99008, None, party("呼和浩特市无此建筑工程有限公司", None), "absent",
         "name in no register record, no code")
    case(99009, None, party("", None), "absent", "blank name, no code")
    company = pl.company()
    wrong = company["credit_code"][:17] + ("1" if company["credit_code"][17] != "1" else "2")
    case(99010, company, typed(company, code=wrong), "resolved",
         "code mistyped (fails the check, not in the register): resolved by its name")
    stranger = {"credit_code": p.ids.credit_code("150602"), "name": "鄂尔多斯市外来建筑有限公司"}
    case(99011, stranger, typed(stranger), "resolved",
         "valid code of a company not in the register: the code stands")
    company = pl.company()
    case(99012, company, typed(company, code="150203000000000"), "resolved",
         "15-digit number of no company: resolved by its name")
    company = pl.company(status="revoked")
    case(99013, company, typed(company), "resolved", "a revoked company still matches")
    company = pl.company(builder=True)
    p.add_version(p.enterprises, company, pl.when(pl.day(-20)), deleted=True)
    case(99014, None, typed(company, code=None), "absent",
         "builder by name only; its register record is tombstoned", role="builder")
    company = pl.company(builder=True)
    case(99015, company, typed(company, code=f"  {company['credit_code']} "), "resolved",
         "builder's code with stray spaces", role="builder")
