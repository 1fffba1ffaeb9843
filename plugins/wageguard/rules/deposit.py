"""The required wage deposit of each project (rules.md, "Required deposit"),
computed in exact decimals and written to night_required_deposit."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection, text

from wageguard.db.bulk import write_rows
from wageguard.db.values import as_date


@dataclass(frozen=True)
class ListEntry:
    list_type: str
    listed_on: dt.date
    expires_on: dt.date | None
    removed_on: dt.date | None

    def applies_on(self, day: dt.date) -> bool:
        return (
            self.listed_on <= day
            and (self.expires_on is None or day < self.expires_on)
            and (self.removed_on is None or day < self.removed_on)
        )


def years_before(day: dt.date, years: int) -> dt.date:
    """Calendar years back; 29 Feb falls on 28 Feb in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Requirement:
    required_fen: int
    multiplier: Decimal
    exempt: bool
    basis: str


def required_deposit(
    contract_fen: int,
    signed_on: dt.date,
    history: list[ListEntry] | None,
    params: dict,
) -> Requirement:
    """`history` is the contractor's organisation entries of either list type
    (not deleted, removed ones included); None when the contractor is unresolved."""
    rate = params["deposit.base_rate"]
    if history is None:
        multiplier, exempt = Decimal(1), False
        basis = "contractor unresolved: multiplier 1, no exemption"
    else:
        dishonest_on_signing = any(
            e.list_type == "dishonest" and e.applies_on(signed_on) for e in history
        )

        def listed_within(years: int) -> bool:
            start = years_before(signed_on, years)
            return any(start <= e.listed_on <= signed_on for e in history)

        if dishonest_on_signing:
            multiplier = params["deposit.dishonest_multiplier"]
            basis = "dishonest entry applies on the signing day"
        elif listed_within(params["deposit.arrears_window_years"]):
            multiplier = params["deposit.arrears_multiplier"]
            basis = f"listed within {params['deposit.arrears_window_years']} years before signing"
        else:
            multiplier, basis = Decimal(1), "no arrears history"
        exempt = (
            Decimal(contract_fen) / 100 < params["deposit.exempt_below_yuan"]
            and not listed_within(params["deposit.exempt_window_years"])
            and not dishonest_on_signing
        )
        if exempt:
            basis = "exempt: small contract, no recent arrears history"
    if exempt:
        return Requirement(0, Decimal(multiplier), True, basis)
    required = (Decimal(contract_fen) * rate * Decimal(multiplier)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    cap = params["deposit.cap_yuan"]
    if cap is not None:
        required = min(required, Decimal(cap) * 100)
    return Requirement(int(required), Decimal(multiplier), False, basis)


def _history_by_code(conn: Connection, run_date: dt.date) -> dict[str, list[ListEntry]]:
    history: dict[str, list[ListEntry]] = defaultdict(list)
    for r in conn.execute(
        text(
            "SELECT credit_code, list_type, listed_on, expires_on, removed_on "
            "FROM night_list_entry WHERE run_date = :d AND subject_type = 'organization' "
            "AND credit_code IS NOT NULL"
        ),
        {"d": run_date},
    ):
        history[r.credit_code].append(
            ListEntry(r.list_type, as_date(r.listed_on), as_date(r.expires_on),
                      as_date(r.removed_on))
        )
    return history


def compute_required_deposits(conn: Connection, run_date: dt.date, params: dict) -> int:
    """Streams each active project's required deposit into night_required_deposit;
    returns how many."""
    history = _history_by_code(conn, run_date)
    projects = conn.execute(
        text(
            "SELECT p.project_id, p.contract_amount_fen, p.contract_signed_on, c.credit_code "
            "FROM night_project p JOIN night_party c ON c.run_date = p.run_date "
            "AND c.project_id = p.project_id AND c.role = 'contractor' "
            "WHERE p.run_date = :d AND p.active = 1"
        ),
        {"d": run_date},
    )

    def deposits():
        for r in projects:
            contractor_history = history.get(r.credit_code, []) if r.credit_code else None
            need = required_deposit(
                r.contract_amount_fen, as_date(r.contract_signed_on), contractor_history, params
            )
            yield (run_date, r.project_id, need.required_fen, str(need.multiplier),
                   int(need.exempt), need.basis)

    return write_rows(conn, "night_required_deposit", ("run_date", "project_id",
                                                       "required_fen", "multiplier", "exempt",
                                                       "basis"), deposits(), may_exist=False)
