"""The province's records in exactly the shape the sources serve them, and the tables
that collect them.

Housing and credit records are JSON-ready dicts as in the OpenAPI schemas (money as yuan
strings, dates `YYYY-MM-DD`, `updated_at` with +08:00). Dev-reform rows are dicts keyed
by the Chinese CSV headers with string values, money in 万元. Money is carried as integer
fen until it is formatted, so every amount is exact."""

from __future__ import annotations

import random
from datetime import date, timedelta, timezone

from wageguard.tables import DEVREFORM_HEADERS

from .identifiers import DISTRICT_BY_CODE, District, IdentifierBook
from .vocabulary import NameBook

# Shanghai has kept +08:00 without daylight saving since 1991: a fixed offset is exact
# and needs no time-zone database.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

_INVESTMENT_HEADERS = tuple(DEVREFORM_HEADERS["investment_projects"])
_DISBURSEMENT_HEADERS = tuple(DEVREFORM_HEADERS["fund_disbursements"])
_ID_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def wan_yuan(fen: int) -> str:
    """万元 with up to 6 decimals (one fen is 0.000001 万元), as the exchange writes it."""
    return f"{fen // 10**6}.{fen % 10**6:06d}".rstrip("0").rstrip(".")


# Stamping is the hot path of generating a large world: look the clock face up.
_HOURS_MINUTES = [f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)]
_SECONDS = [f"{s:02d}" for s in range(60)]


def stamp(day: date, second_of_day: int) -> str:
    """An `updated_at` on `day`, `second_of_day` seconds after midnight Shanghai time."""
    clock = f"{_HOURS_MINUTES[second_of_day // 60]}:{_SECONDS[second_of_day % 60]}"
    return f"{day.isoformat()}T{clock}+08:00"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def add_months(month: str, count: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    first = date(int(month[:4]), int(month[5:]), 1)
    following = date.fromisoformat(add_months(month, 1) + "-01")
    return first, following - timedelta(days=1)


def latest_closed_month(run_date: date, closes_on_day: int = 5) -> str:
    """A month is closed on D when D is on or after day `closes_on_day` of the next month."""
    return add_months(month_of(run_date), -1 if run_date.day >= closes_on_day else -2)


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (or earlier); 29 Feb becomes 28 Feb."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def full_width(text: str) -> str:
    """ASCII as typed with a Chinese input method's full-width mode: "９１Ａ－"."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def party(name: str | None, credit_code: str | None) -> dict:
    return {"name": name, "credit_code": credit_code}


class Province:
    """The tables of a world being generated, with one constructor per kind of record.

    A record that changes is appended again as a new version (`add_version`): the sources
    keep every version, as their incremental feeds do."""

    def __init__(
        self,
        rng: random.Random,
        run_date: date,
        ids: IdentifierBook | None = None,
        names: NameBook | None = None,
    ):
        self.rng = rng
        self.run_date = run_date
        self.ids = ids or IdentifierBook(rng)
        self.names = names or NameBook(rng)
        self.projects: list[dict] = []
        self.wage_accounts: list[dict] = []
        self.wage_deposits: list[dict] = []
        self.realname_monthly: list[dict] = []
        self.enterprises: list[dict] = []
        self.list_entries: list[dict] = []
        self.investment_projects: list[dict] = []
        self.fund_disbursements: list[dict] = []
        self._project_serials: dict[tuple[str, int], int] = {}

    def sibling(self, rng: random.Random) -> Province:
        """Separate tables drawn from another random stream, with ids and names still
        unique across both."""
        return Province(rng, self.run_date, self.ids, self.names)

    def at_office_hours(self, day: date) -> str:
        return stamp(day, 8 * 3600 + int(self.rng.random() * 11 * 3600))

    @staticmethod
    def add_version(table: list[dict], record: dict, updated_at: str, **changes) -> dict:
        """Another version of `record` (same id), earlier or later than it."""
        version = {**record, **changes, "updated_at": updated_at}
        table.append(version)
        return version

    def project_id(self, district: District, signed: date, serial: int | None = None) -> str:
        if serial is None:
            key = (district.code, signed.year)
            serial = self._project_serials.get(key, 0) + 1
            self._project_serials[key] = serial
        return f"ZJ{district.code}-{signed.year}-{serial:05d}"

    def enterprise(
        self,
        *,
        district: District,
        name: str,
        credit_code: str,
        updated_at: str,
        former_names: tuple[str, ...] = (),
        legacy_registration_no: str | None = None,
        status: str = "active",
    ) -> dict:
        record = {
            "credit_code": credit_code,
            "name": name,
            "former_names": list(former_names),
            "legacy_registration_no": legacy_registration_no,
            "legal_representative": self.names.person(),
            "registered_district_code": district.code,
            "status": status,
            "updated_at": updated_at,
            "deleted": False,
        }
        self.enterprises.append(record)
        return record

    def project(
        self,
        *,
        project_id: str,
        district: District,
        builder: dict,
        contractor: dict,
        contract_fen: int,
        signed: date,
        started: date | None,
        planned_completion: date | None,
        completed: date | None,
        status: str,
        updated_at: str,
        investment_code: str | None = None,
        name: str | None = None,
    ) -> dict:
        permit_no = None
        if started is not None:
            permit_no = f"{district.code}{started:%Y%m%d}{self.rng.randrange(10**4):04d}01"
        record = {
            "project_id": project_id,
            "investment_code": investment_code,
            "permit_no": permit_no,
            "name": name or self.names.project(district),
            "district_code": district.code,
            "builder": builder,
            "contractor": contractor,
            "contract_amount": yuan(contract_fen),
            "contract_signed_on": signed.isoformat(),
            "started_on": started and started.isoformat(),
            "planned_completion_on": planned_completion and planned_completion.isoformat(),
            "completed_on": completed and completed.isoformat(),
            "status": status,
            "updated_at": updated_at,
            "deleted": False,
        }
        self.projects.append(record)
        return record

    def wage_account(
        self,
        *,
        project_id: str,
        district: District,
        opened: date,
        filed: date | None,
        closed: date | None,
        updated_at: str,
        status: str | None = None,
    ) -> dict:
        record = {
            "account_id": self.ids.next_in_sequence("ZH"),
            "project_id": project_id,
            "bank_name": self.names.bank_branch(district),
            "account_no_masked": f"6217********{self.rng.randrange(10**4):04d}",
            "opened_on": opened.isoformat(),
            "filed_on": filed and filed.isoformat(),
            "closed_on": closed and closed.isoformat(),
            "status": status or ("open" if closed is None else "closed"),
            "updated_at": updated_at,
            "deleted": False,
        }
        self.wage_accounts.append(record)
        return record

    def wage_deposit(
        self,
        *,
        project_id: str,
        contractor_credit_code: str | None,
        form: str,
        amount_fen: int,
        deposited: date,
        valid_until: date | None,
        status: str,
        updated_at: str,
    ) -> dict:
        record = {
            "deposit_id": self.ids.next_in_sequence("BZJ"),
            "project_id": project_id,
            "contractor_credit_code": contractor_credit_code,
            "form": form,
            "amount": yuan(amount_fen),
            "deposited_on": deposited.isoformat(),
            "valid_until": valid_until and valid_until.isoformat(),
            "status": status,
            "updated_at": updated_at,
            "deleted": False,
        }
        self.wage_deposits.append(record)
        return record

    def realname_month(
        self,
        *,
        project_id: str,
        month: str,
        registered: int,
        attending: int,
        payroll_fen: int,
        paid_via_contractor_fen: int,
        updated_at: str,
    ) -> dict:
        record = {
            "project_id": project_id,
            "month": month,
            "registered_workers": registered,
            "attending_workers": attending,
            "paid_workers": attending,
            "payroll_amount": yuan(payroll_fen),
            "paid_via_contractor_amount": yuan(paid_via_contractor_fen),
            "updated_at": updated_at,
        }
        self.realname_monthly.append(record)
        return record

    def list_entry(
        self,
        *,
        subject: dict,
        list_type: str,
        listed: date,
        expires: date,
        updated_at: str,
        person: str | None = None,
        removed: date | None = None,
    ) -> dict:
        """An entry on a list for the enterprise `subject`, or for `person`, who answers
        for it (then the entry carries the enterprise's code, as the credit system does)."""
        district = DISTRICT_BY_CODE[subject["registered_district_code"]]
        owed_workers = self.rng.randrange(3, 120)
        record = {
            "entry_id": self.ids.next_in_sequence("SXMD", 7),
            "subject_type": "organization" if person is None else "person",
            "subject_name": subject["name"] if person is None else person,
            "credit_code": subject["credit_code"],
            "person_id_masked": (
                None if person is None else self.person_id(district.code, masked=True)
            ),
            "list_type": list_type,
            "cause": "拖欠农民工工资",
            "decision_no": f"人社监失字〔{listed.year}〕{self.rng.randrange(1, 400)}号",
            "listing_authority": f"{district.city}人力资源和社会保障局",
            "listing_authority_district_code": district.code[:4] + "00",
            "listed_on": listed.isoformat(),
            "expires_on": expires.isoformat(),
            "removed_on": removed and removed.isoformat(),
            "removal_reason": removed and "信用修复",
            "amount_owed": yuan(owed_workers * self.rng.randrange(300_000, 2_000_000)),
            "workers_owed": owed_workers,
            "updated_at": updated_at,
            "deleted": False,
        }
        self.list_entries.append(record)
        return record

    def person_id(self, district: str, *, masked: bool) -> str:
        """A 居民身份证号: district, birth date, sequence, ISO 7064 MOD 11-2 check."""
        born = date(1960, 1, 1) + timedelta(days=self.rng.randrange(365 * 35))
        first17 = f"{district}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
        weighted = sum(int(c) * w for c, w in zip(first17, _ID_CHECK_WEIGHTS, strict=True))
        number = first17 + "10X98765432"[weighted % 11]
        return number[:6] + "*" * 8 + number[-4:] if masked else number

    def investment_project(
        self,
        *,
        code: str,
        name: str,
        district: District,
        owner: dict,
        government: bool,
        total_fen: int,
        approved: date,
        status: str,
    ) -> dict:
        values = (
            code, name, district.code, owner["name"], owner["credit_code"],
            "是" if government else "否", wan_yuan(total_fen), approved.isoformat(), status,
        )
        row = dict(zip(_INVESTMENT_HEADERS, values, strict=True))
        self.investment_projects.append(row)
        return row

    def disbursement(
        self, *, code: str, month: str, planned_fen: int, actual_fen: int, labour: str
    ) -> dict:
        """`labour` is passed as written (an amount, "0", or blank): the rules tell them apart."""
        values = (code, month.replace("-", ""), wan_yuan(planned_fen), wan_yuan(actual_fen), labour)
        row = dict(zip(_DISBURSEMENT_HEADERS, values, strict=True))
        self.fund_disbursements.append(row)
        return row
