"""Dirt, planted at a small rate in the province's own records (never in planted cases):
the broken promises the contracts warn of.

Three kinds, listed separately. *Messy* values are still readable once normalised (a
lower-case code, "1,250,000.00", "2026年11月3日", full-width digits): the pipeline must
clean and keep them. *Warned* records break their contract only where no rule reads (a
blank bank name, an approval date that is no date): the pipeline must keep them and
record the breach. *Malformed* records cannot be used ("2026-13-45" as a signing date, a
status outside the enum, a negative amount, no project_id, a CSV row cut short): the
pipeline must quarantine them, not crash and not drop them silently."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from wageguard.tables import DEVREFORM_HEADERS

from .cases import DirtyRecord, record_key
from .records import Province, full_width, latest_closed_month

_RATE = 0.001  # of a table's records, for each kind of dirt; at least one each


_WARNED, _MALFORMED = "warned", "malformed"


@dataclass(frozen=True)
class _Dirt:
    table: str
    why: str
    change: Callable[[dict], object]
    applies: Callable[[dict], bool] = lambda record: True
    outcome: str = "messy"  # messy | warned | malformed


def spoil(province: Province, rng: random.Random) -> dict[str, list[DirtyRecord]]:
    """Dirty some of `province`'s records in place; returns them by outcome (messy,
    warned, malformed)."""
    dirty: dict[str, list[DirtyRecord]] = {"messy": [], "warned": [], "malformed": []}
    # One dirt per record at most, so each is listed with the one reason it is dirty.
    spoiled: set[int] = set()
    for dirt in _kinds(province):
        rows = getattr(province, dirt.table)
        length_before = len(rows)
        count = max(1, round(len(rows) * _RATE))
        for record in _pick(rows, count, dirt.applies, spoiled, rng):
            dirt.change(record)
            spoiled.add(id(record))
            dirty[dirt.outcome].append(
                DirtyRecord(dirt.table, record_key(dirt.table, record), dirt.why))
        spoiled.update(id(r) for r in rows[length_before:])  # the copies of duplicates
    return dirty


def _pick(
    rows: list[dict],
    count: int,
    applies: Callable[[dict], bool],
    spoiled: set[int],
    rng: random.Random,
) -> list[dict]:
    """`count` random rows the dirt applies to and not yet spoiled (fewer if there are
    not as many). A random sample is searched first: scanning whole tables for every
    kind of dirt is slow."""
    for pool in (rng.sample(rows, min(len(rows), 50 * count)), rows):
        found = [r for r in pool if id(r) not in spoiled and applies(r)]
        if len(found) >= count or pool is rows:
            return rng.sample(found, min(count, len(found)))
    raise AssertionError("the whole table is the last pool")


def _kinds(province: Province) -> list[_Dirt]:
    register = {e["credit_code"]: e for e in province.enterprises}

    def company_of(role: str) -> Callable[[dict], dict | None]:
        return lambda project: register.get(project[role]["credit_code"])

    def on_party(role: str, change: Callable[[dict, dict], None]) -> Callable[[dict], None]:
        def apply(project: dict) -> None:
            project[role] = dict(project[role])  # versions share the party dict
            change(project[role], register.get(project[role]["credit_code"], {}))
        return apply

    def reformat_date(field: str, style: Callable[[str], str]) -> Callable[[dict], None]:
        def apply(record: dict) -> None:
            record[field] = style(record[field])
        return apply

    def setter(**values) -> Callable[[dict], None]:
        return lambda record: record.update(values)

    def duplicate(table: str) -> Callable[[dict], None]:
        return lambda record: getattr(province, table).append(dict(record))

    def cut_short(table: str, keep: int) -> Callable[[dict], None]:
        """A row whose dict lacks its last headers is written with fewer fields."""
        dropped = list(DEVREFORM_HEADERS[table])[keep:]

        def apply(row: dict) -> None:
            for header in dropped:
                del row[header]
        return apply

    contractor, builder = company_of("contractor"), company_of("builder")
    # A pull asks for the months it needs; the latest closed one every night needs.
    latest_closed = latest_closed_month(province.run_date)

    def in_latest_closed_month(row: dict) -> bool:
        return row["month"] == latest_closed

    return [
        # --- projects: parties as typed by the offices
        _Dirt("projects", "builder name blank (its code is right)",
              on_party("builder", lambda p, c: p.update(name="")), outcome=_WARNED),
        _Dirt("projects", "project name blank", setter(name=""), outcome=_WARNED),
        _Dirt("projects", "contractor credit code typed lower-case",
              on_party("contractor", lambda p, c: p.update(credit_code=p["credit_code"].lower())),
              lambda r: r["contractor"]["credit_code"] is not None),
        _Dirt("projects", "contractor credit code in full-width characters",
              on_party("contractor",
                       lambda p, c: p.update(credit_code=full_width(p["credit_code"]))),
              lambda r: r["contractor"]["credit_code"] is not None),
        _Dirt("projects", "contractor typed with its 15-digit registration number",
              on_party("contractor",
                       lambda p, c: p.update(credit_code=c["legacy_registration_no"])),
              lambda r: bool((contractor(r) or {}).get("legacy_registration_no"))),
        _Dirt("projects", "builder credit code missing",
              on_party("builder", lambda p, c: p.update(credit_code=None))),
        _Dirt("projects", "contractor typed with a former name of the company",
              on_party("contractor", lambda p, c: p.update(name=c["former_names"][0])),
              lambda r: bool((contractor(r) or {}).get("former_names"))),
        _Dirt("projects", "builder name with () for （） and inner spaces",
              on_party("builder", lambda p, c: p.update(
                  name=p["name"].replace("（", "( ").replace("）", " )").replace("有限", "有限 "))),
              lambda r: "（" in (builder(r) or {}).get("name", "")),
        _Dirt("projects", "stray spaces around the contractor's name and code",
              on_party("contractor", lambda p, c: p.update(
                  name=f" {p['name']}  ", credit_code=f"{p['credit_code']} ")),
              lambda r: r["contractor"]["credit_code"] is not None),
        _Dirt("projects", "contract amount with thousands separators",
              lambda r: r.update(contract_amount=_with_separators(r["contract_amount"]))),
        _Dirt("projects", "contract_signed_on typed YYYY/MM/DD",
              reformat_date("contract_signed_on", lambda d: d.replace("-", "/"))),
        _Dirt("projects", "contract_signed_on typed YYYY年M月D日",
              reformat_date("contract_signed_on", _chinese_date)),
        _Dirt("projects", "started_on typed YYYYMMDD",
              reformat_date("started_on", lambda d: d.replace("-", "")),
              lambda r: r["started_on"] is not None),
        _Dirt("projects", "district code in full-width digits",
              lambda r: r.update(district_code=full_width(r["district_code"]))),
        _Dirt("projects", "served twice: same id, same updated_at", duplicate("projects")),
        _Dirt("projects", "contract_signed_on 2026-13-45 is no date",
              setter(contract_signed_on="2026-13-45"), outcome=_MALFORMED),
        _Dirt("projects", "contract_signed_on 下月 is no date",
              setter(contract_signed_on="下月"), outcome=_MALFORMED),
        _Dirt("projects", "status in_progress is outside the enum",
              setter(status="in_progress"), outcome=_MALFORMED),
        _Dirt("projects", "contract amount is negative",
              setter(contract_amount="-500000.00"), outcome=_MALFORMED),
        _Dirt("projects", "contract amount 待定 is not a number",
              setter(contract_amount="待定"), outcome=_MALFORMED),
        # --- wage accounts
        _Dirt("wage_accounts", "opened_on typed YYYY/MM/DD",
              reformat_date("opened_on", lambda d: d.replace("-", "/"))),
        _Dirt("wage_accounts", "stray spaces in the bank name",
              lambda r: r.update(bank_name=f" {r['bank_name']} ")),
        _Dirt("wage_accounts", "served twice: same id, same updated_at",
              duplicate("wage_accounts")),
        _Dirt("wage_accounts", "project_id missing", setter(project_id=None), outcome=_MALFORMED),
        _Dirt("wage_accounts", "opened_on 下月 is no date", setter(opened_on="下月"),
              outcome=_MALFORMED),
        _Dirt("wage_accounts", "status frozen is outside the enum (no rule reads it)",
              setter(status="frozen"), outcome=_WARNED),
        _Dirt("wage_accounts", "bank name blank", setter(bank_name=""), outcome=_WARNED),
        _Dirt("wage_accounts", "masked account number blank", setter(account_no_masked="  "),
              outcome=_WARNED),
        # --- wage deposits
        _Dirt("wage_deposits", "amount with thousands separators",
              lambda r: r.update(amount=_with_separators(r["amount"]))),
        _Dirt("wage_deposits", "deposited_on typed YYYY年M月D日",
              reformat_date("deposited_on", _chinese_date)),
        _Dirt("wage_deposits", "contractor credit code typed lower-case",
              lambda r: r.update(contractor_credit_code=r["contractor_credit_code"].lower()),
              lambda r: r["contractor_credit_code"] is not None),
        _Dirt("wage_deposits", "amount is negative", setter(amount="-1000.00"), outcome=_MALFORMED),
        _Dirt("wage_deposits", "form cheque is outside the enum", setter(form="cheque"),
              outcome=_MALFORMED),
        _Dirt("wage_deposits", "project_id missing", setter(project_id=None), outcome=_MALFORMED),
        # --- real-name months
        _Dirt("realname_monthly", "payroll with thousands separators",
              lambda r: r.update(payroll_amount=_with_separators(r["payroll_amount"])),
              in_latest_closed_month),
        _Dirt("realname_monthly", "served twice: same key, same updated_at",
              duplicate("realname_monthly"), in_latest_closed_month),
        _Dirt("realname_monthly", "registered_workers is negative",
              setter(registered_workers=-3), in_latest_closed_month, outcome=_MALFORMED),
        _Dirt("realname_monthly", "paid amount 不详 is not a number",
              setter(paid_via_contractor_amount="不详"), in_latest_closed_month,
              outcome=_MALFORMED),
        # --- the register and the lists
        _Dirt("enterprises", "stray spaces around the name",
              lambda r: r.update(name=f"{r['name']}  ")),
        _Dirt("enterprises", "registration number in full-width digits",
              lambda r: r.update(legacy_registration_no=full_width(r["legacy_registration_no"])),
              lambda r: r["legacy_registration_no"] is not None),
        _Dirt("enterprises", "status 存续 is outside the enum (no rule reads it)",
              setter(status="存续"), outcome=_WARNED),
        _Dirt("enterprises", "name blank", setter(name=""), outcome=_WARNED),
        _Dirt("enterprises", "deleted typed 否, not true/false", setter(deleted="否"),
              outcome=_MALFORMED),
        _Dirt("list_entries", "person's ID number sent unmasked",
              lambda r: r.update(person_id_masked=province.person_id(
                  r["person_id_masked"][:6], masked=False)),
              lambda r: r["subject_type"] == "person"),
        _Dirt("list_entries", "listed_on typed YYYYMMDD",
              reformat_date("listed_on", lambda d: d.replace("-", ""))),
        _Dirt("list_entries", "credit code typed lower-case",
              lambda r: r.update(credit_code=r["credit_code"].lower())),
        _Dirt("list_entries", "subject name blank", setter(subject_name=""), outcome=_WARNED),
        _Dirt("list_entries", "cause, decision number and listing authority blank",
              setter(cause="", decision_no=None, listing_authority=" "), outcome=_WARNED),
        _Dirt("list_entries", "listed_on 2026-13-45 is no date", setter(listed_on="2026-13-45"),
              outcome=_MALFORMED),
        _Dirt("list_entries", "list_type warning is outside the enum", setter(list_type="warning"),
              outcome=_MALFORMED),
        # --- dev-reform CSV rows
        _Dirt("investment_projects", "code typed as 20 bare digits",
              lambda r: r.update(项目代码=r["项目代码"].replace("-", ""))),
        _Dirt("investment_projects", "code typed with / separators and full-width digits",
              lambda r: r.update(项目代码=full_width(r["项目代码"]).replace("－", "/"))),
        _Dirt("investment_projects", "stray spaces around the name and the code",
              lambda r: r.update(项目名称=f" {r['项目名称']} ", 项目代码=f"{r['项目代码']}  ")),
        _Dirt("investment_projects", "total investment in full-width digits",
              lambda r: r.update(总投资=full_width(r["总投资"]))),
        _Dirt("investment_projects", "是否政府投资 typed with spaces",
              lambda r: r.update(是否政府投资=f" {r['是否政府投资']} ")),
        _Dirt("investment_projects", "name with a comma and quotes (quoted in the CSV)",
              lambda r: r.update(项目名称=f'{r["项目名称"]},含"配套"工程')),
        _Dirt("investment_projects", "name with a line break (quoted in the CSV)",
              lambda r: r.update(项目名称=f"{r['项目名称']}\n（二标段）")),
        _Dirt("investment_projects", "approval date 2026-13-45 is no date (no rule reads it)",
              setter(审批日期="2026-13-45"), outcome=_WARNED),
        _Dirt("investment_projects", "total investment 待定 is not a number (no rule reads it)",
              setter(总投资="待定"), outcome=_WARNED),
        _Dirt("investment_projects", "是否政府投资 typed Y", setter(是否政府投资="Y"),
              outcome=_MALFORMED),
        _Dirt("investment_projects", "row cut short after the owner's name",
              cut_short("investment_projects", 4), outcome=_MALFORMED),
        _Dirt("fund_disbursements", "labour amount in full-width digits",
              lambda r: r.update(其中人工费用=full_width(r["其中人工费用"]))),
        _Dirt("fund_disbursements", "month 202613 does not exist", setter(拨付月份="202613"),
              outcome=_MALFORMED),
        _Dirt("fund_disbursements", "labour amount is negative", setter(其中人工费用="-5"),
              outcome=_MALFORMED),
        _Dirt("fund_disbursements", "actual amount 待定 is not a number (no rule reads it)",
              setter(实际拨付金额="待定"), outcome=_WARNED),
        _Dirt("fund_disbursements", "row cut short after the planned amount",
              cut_short("fund_disbursements", 3), outcome=_MALFORMED),
    ]


def _with_separators(amount: str) -> str:
    return f"{Decimal(amount):,}"


def _chinese_date(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{year}年{int(month)}月{int(day)}日"
