"""The required deposit of rules.md: rate, multipliers, exemption, rounding, cap."""

import datetime as dt
from decimal import Decimal

from wageguard.rules.deposit import ListEntry, required_deposit, years_before
from wageguard.rules.params import DEFAULTS

S = dt.date(2026, 3, 10)
YUAN = 100  # fen


def entry(list_type="dishonest", listed=dt.date(2025, 1, 1), expires=dt.date(2028, 1, 1),
          removed=None):
    return ListEntry(list_type, listed, expires, removed)


def test_clean_contractor_pays_the_base_rate():
    need = required_deposit(10_000_000 * YUAN, S, [], DEFAULTS)
    assert need.required_fen == 100_000 * YUAN
    assert need.multiplier == 1 and not need.exempt


def test_dishonest_entry_applying_on_signing_doubles_it():
    need = required_deposit(10_000_000 * YUAN, S, [entry(listed=dt.date(2023, 5, 1))], DEFAULTS)
    assert need.multiplier == Decimal("2.0")
    assert need.required_fen == 200_000 * YUAN


def test_entry_removed_early_within_two_years_is_still_history():
    removed = entry(listed=dt.date(2024, 6, 1), removed=dt.date(2025, 1, 1))
    need = required_deposit(10_000_000 * YUAN, S, [removed], DEFAULTS)
    assert need.multiplier == Decimal("1.5")
    assert need.required_fen == 150_000 * YUAN


def test_two_year_window_is_inclusive_on_the_calendar():
    on_edge = entry("major_violation", listed=dt.date(2024, 3, 10), expires=dt.date(2024, 4, 1))
    day_before = entry("major_violation", listed=dt.date(2024, 3, 9), expires=dt.date(2024, 4, 1))
    assert required_deposit(10_000_000 * YUAN, S, [on_edge], DEFAULTS).multiplier == Decimal("1.5")
    assert required_deposit(10_000_000 * YUAN, S, [day_before], DEFAULTS).multiplier == 1


def test_an_entry_listed_after_signing_is_not_history():
    later = entry(listed=S + dt.timedelta(days=1))
    assert required_deposit(10_000_000 * YUAN, S, [later], DEFAULTS).multiplier == 1


def test_small_clean_contract_is_exempt_and_boundary_is_not():
    assert required_deposit(2_999_999_99, S, [], DEFAULTS).exempt
    assert required_deposit(2_999_999_99, S, [], DEFAULTS).required_fen == 0
    at_threshold = required_deposit(3_000_000 * YUAN, S, [], DEFAULTS)
    assert not at_threshold.exempt and at_threshold.required_fen == 30_000 * YUAN


def test_recent_history_removes_the_exemption():
    recent = entry("major_violation", listed=dt.date(2025, 6, 1), expires=dt.date(2025, 7, 1))
    need = required_deposit(1_000_000 * YUAN, S, [recent], DEFAULTS)
    assert not need.exempt and need.required_fen == 15_000 * YUAN


def test_unresolved_contractor_gets_no_exemption_and_multiplier_one():
    need = required_deposit(1_000_000 * YUAN, S, None, DEFAULTS)
    assert not need.exempt and need.multiplier == 1
    assert need.required_fen == 10_000 * YUAN
    assert "unresolved" in need.basis


def test_rounds_half_up_to_the_fen():
    # 1.5% of 12,345.67 yuan = 185.18505 -> 185.19
    need = required_deposit(1_234_567, S, [entry(listed=dt.date(2024, 6, 1),
                                                  removed=dt.date(2024, 7, 1))],
                            {**DEFAULTS, "deposit.exempt_below_yuan": Decimal(0)})
    assert need.required_fen == 18_519


def test_cap_applies():
    params = {**DEFAULTS, "deposit.cap_yuan": Decimal(5000000)}
    need = required_deposit(1_000_000_000 * YUAN, S, [entry()], params)
    assert need.required_fen == 5_000_000 * YUAN


def test_leap_day_falls_back_to_28_february():
    assert years_before(dt.date(2028, 2, 29), 1) == dt.date(2027, 2, 28)
    assert years_before(dt.date(2028, 2, 29), 4) == dt.date(2024, 2, 29)
