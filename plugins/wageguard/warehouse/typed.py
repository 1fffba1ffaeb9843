"""From validated, normalised source rows (strings in the forms the GX suites
check) to the typed columns of the warehouse's version tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from wageguard.identity.investment_code import normalise_investment_code
from wageguard.identity.person_id import mask_person_id


def fen(value: str | None) -> int | None:
    """Yuan with two decimals to integer fen, exactly."""
    if value is None:
        return None
    whole, _, cents = value.partition(".")
    if whole.isdecimal() and len(cents) == 2 and cents.isdecimal():  # as validated: integers do
        return int(whole) * 100 + int(cents)
    return int(Decimal(value) * 100)


def day(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def count(value: str | None) -> int | None:
    return None if value is None else int(value)


def flag(value) -> int:
    return 1 if value in (True, "true", "True", 1, "1") else 0


def government(value: str | None) -> int:
    return 1 if value == "是" else 0


# target table -> {target column: (source column, conversion)}; columns not
# listed are copied as they are.
CONVERSIONS = {
    "projects": {
        "contract_amount_fen": ("contract_amount", fen),
        "contract_signed_on": ("contract_signed_on", day),
        "started_on": ("started_on", day),
        "planned_completion_on": ("planned_completion_on", day),
        "completed_on": ("completed_on", day),
        "deleted": ("deleted", flag),
    },
    "wage_accounts": {
        "opened_on": ("opened_on", day),
        "filed_on": ("filed_on", day),
        "closed_on": ("closed_on", day),
        "deleted": ("deleted", flag),
    },
    "wage_deposits": {
        "amount_fen": ("amount", fen),
        "deposited_on": ("deposited_on", day),
        "valid_until": ("valid_until", day),
        "deleted": ("deleted", flag),
    },
    "realname_monthly": {
        "registered_workers": ("registered_workers", count),
        "attending_workers": ("attending_workers", count),
        "paid_workers": ("paid_workers", count),
        "payroll_fen": ("payroll_amount", fen),
        "paid_via_contractor_fen": ("paid_via_contractor_amount", fen),
    },
    "enterprises": {"deleted": ("deleted", flag)},
    "list_entries": {
        "person_id_masked": ("person_id_masked", mask_person_id),
        "listed_on": ("listed_on", day),
        "expires_on": ("expires_on", day),
        "removed_on": ("removed_on", day),
        "amount_owed_fen": ("amount_owed", fen),
        "workers_owed": ("workers_owed", count),
        "deleted": ("deleted", flag),
    },
    "investment_projects": {
        "code_normalised": ("investment_code", normalise_investment_code),
        "government_invested": ("government_invested", government),
        "total_investment_fen": ("total_investment", fen),
        "approved_on": ("approved_on", day),
    },
    "fund_disbursements": {
        "code_normalised": ("investment_code", normalise_investment_code),
        "planned_fen": ("planned_amount", fen),
        "actual_fen": ("actual_amount", fen),
        "labour_fen": ("labour_amount", fen),
    },
}

VERSION_TABLE = {
    "projects": "project_version",
    "wage_accounts": "wage_account_version",
    "wage_deposits": "wage_deposit_version",
    "realname_monthly": "realname_month_version",
    "enterprises": "enterprise_version",
    "list_entries": "list_entry_version",
    "investment_projects": "investment_project",
    "fund_disbursements": "fund_disbursement",
}


def _converted(values: list, convert) -> list:
    """`convert` applied to a column, once per distinct value: dates, amounts and
    codes repeat across a province, and the conversions are pure."""
    seen: dict = {}
    out = []
    for value in values:
        try:
            out.append(seen[value])
        except KeyError:
            seen[value] = converted = convert(value)
            out.append(converted)
    return out


def typed_columns(table: str, columns: dict[str, list], target_columns: list[str],
                  identity: tuple[str, ...], tombstones: list[bool]) -> list[list]:
    """The target columns, each a list, from the normalised source `columns`.

    A tombstone voids its record: only its identity (key, updated_at, deleted)
    was checked, so only that is typed; the rest of what it carried stays in
    its landed payload."""
    conversions = CONVERSIONS[table]
    voided = [i for i, dead in enumerate(tombstones) if dead]
    out = []
    for column in target_columns:
        source, convert = conversions.get(column, (column, None))
        values = columns[source]
        if voided and column not in identity:
            values = list(values)
            for i in voided:
                values[i] = None
        out.append(values if convert is None else _converted(values, convert))
    return out

