"""Each rule's SQL (sql/rules/) on a few given rows of night D's tables, with the
projects it must flag, on both warehouses: the rule's edges held without a
whole night. The planted province (tests/test_pipeline.py) holds the same
rules end to end."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from wageguard.db.sqlfiles import read_sql, statements, used_params
from wageguard.rules.catalogue import load_rules
from wageguard.rules.evaluate import bound_params
from wageguard.rules.params import load_params

D = dt.date(2026, 11, 21)
BUNDLE = dt.date(2026, 11, 20)
RULES = {rule.code: rule for rule in load_rules()}


def day(offset: int) -> dt.date:
    return D + dt.timedelta(days=offset)


def _insert(conn, table: str, **row) -> None:
    names = ", ".join(row)
    conn.execute(text(f"INSERT INTO {table} ({names}) VALUES "
                      f"({', '.join(':' + n for n in row)})"), row)


def project(conn, pid: str, *, signed=-400, started: int | None = -380, status="under_construction",
            planned=300) -> None:
    _insert(conn, "night_project", run_date=D, project_id=pid, payload_hash="h",
            district_code="150203", contract_signed_on=day(signed),
            started_on=None if started is None else day(started),
            planned_completion_on=None if planned is None else day(planned),
            contract_amount_fen=12_500_000_00, status=status, active=1)


def flagged(conn, code: str) -> dict[str, str]:
    """{project_id: base severity} the rule finds on D."""
    rule = RULES[code]
    (sql,) = statements(read_sql(rule.sql))
    bound = bound_params(D, BUNDLE, load_params())
    return {r.project_id: r.base_severity
            for r in conn.execute(text(sql), used_params(sql, {**bound, **rule.bind}))}


@pytest.fixture
def conn(engine):
    with engine.connect() as connection, connection.begin() as transaction:
        yield connection
        transaction.rollback()


def account(conn, pid: str, aid: str, *, opened: int, filed: int | None = None,
            closed: int | None = None) -> None:
    _insert(conn, "night_account", run_date=D, account_id=aid, payload_hash="h",
            project_id=pid, opened_on=day(opened),
            filed_on=None if filed is None else day(filed),
            closed_on=None if closed is None else day(closed))


def test_wa1_no_account_open_on_d(conn):
    project(conn, "signed-30", signed=-30)  # exactly 30 days: not yet due
    project(conn, "signed-31", signed=-31, started=None)
    project(conn, "closed-on-d")
    account(conn, "closed-on-d", "A1", opened=-390, filed=-385, closed=0)
    project(conn, "closes-tomorrow")
    account(conn, "closes-tomorrow", "A2", opened=-390, filed=-385, closed=1)
    project(conn, "opens-tomorrow")
    account(conn, "opens-tomorrow", "A3", opened=1)
    assert flagged(conn, "WA1") == {"signed-31": "orange", "closed-on-d": "red",
                                    "opens-tomorrow": "red"}


def test_wa2_open_account_not_filed_in_time(conn):
    for pid, opened, filed in (("due", -31, None), ("not-yet-due", -30, None),
                               ("filed-tomorrow", -59, 1), ("filed-on-d", -59, 0)):
        project(conn, pid, signed=-60)
        account(conn, pid, f"A-{pid}", opened=opened, filed=filed)
    assert flagged(conn, "WA2") == {"due": "yellow", "filed-tomorrow": "yellow"}


def deposit(conn, pid: str, did: str, amount_fen: int, *, form="cash", status="active",
            deposited=-380, valid_until: int | None = None) -> None:
    _insert(conn, "night_deposit", run_date=D, deposit_id=did, payload_hash="h",
            project_id=pid, form=form, amount_fen=amount_fen, deposited_on=day(deposited),
            valid_until=None if valid_until is None else day(valid_until), status=status)


def required(conn, pid: str, fen: int) -> None:
    _insert(conn, "night_required_deposit", run_date=D, project_id=pid, required_fen=fen,
            multiplier="1", exempt=0 if fen else 1, basis="test")


def test_wd1_and_wd2_deposits_against_the_required_amount(conn):
    for pid in ("none", "exempt", "started-30", "lapsed", "used", "short", "enough"):
        project(conn, pid, started=-30 if pid == "started-30" else -380)
        required(conn, pid, 0 if pid == "exempt" else 125_000_00)
    deposit(conn, "lapsed", "D1", 125_000_00, form="bank_guarantee", valid_until=-1)
    deposit(conn, "used", "D2", 125_000_00, status="used")
    deposit(conn, "short", "D3", 100_000_00)
    deposit(conn, "short", "D4", 24_999_99)
    deposit(conn, "enough", "D5", 100_000_00)
    deposit(conn, "enough", "D6", 25_000_00, form="bank_guarantee", valid_until=0)
    assert flagged(conn, "WD1") == {"none": "red", "lapsed": "red", "used": "red"}
    assert flagged(conn, "WD2") == {"short": "orange"}


def test_wd3_a_guarantee_lapsing_within_the_warning_before_completion(conn):
    for pid, valid_until, planned in (("lapses-in-30", 30, 300), ("lapses-in-31", 31, 300),
                                      ("lapses-at-completion", 30, 30),
                                      ("no-planned-completion", 10, None)):
        project(conn, pid, planned=planned)
        required(conn, pid, 125_000_00)
        deposit(conn, pid, f"D-{pid}", 125_000_00, form="bank_guarantee",
                valid_until=valid_until)
    assert flagged(conn, "WD3") == {"lapses-in-30": "yellow"}


def test_cr1_cr2_an_organisation_entry_applying_on_d(conn):
    entries = (("listed", -100, 900, None, "organization"), ("expires-on-d", -365, 0, None,
                                                             "organization"),
               ("removed-on-d", -100, 900, 0, "organization"),
               ("removed-tomorrow", -100, 900, 1, "organization"),
               ("person-only", -100, 900, None, "person"))
    for pid, listed, expires, removed, subject in entries:
        project(conn, pid)
        code = f"CODE-{pid}"
        for role in ("contractor", "builder"):
            _insert(conn, "night_party", run_date=D, project_id=pid, role=role,
                    credit_code=code, status="resolved")
        _insert(conn, "night_list_entry", run_date=D, entry_id=f"E-{pid}", payload_hash="h",
                subject_type=subject, credit_code=code, list_type="dishonest",
                listed_on=day(listed), expires_on=day(expires),
                removed_on=None if removed is None else day(removed))
    expected = {"listed", "removed-tomorrow"}
    assert flagged(conn, "CR1") == dict.fromkeys(expected, "red")
    assert flagged(conn, "CR2") == dict.fromkeys(expected, "orange")


def test_gi1_no_labour_cost_in_the_closed_months_of_the_bundle(conn):
    months = bound_params(D, BUNDLE, load_params())
    first, last = months["gi1_first_month"], months["gi1_last_month"]
    for pid, government, labour in (("none-paid", 1, {}), ("paid-last", 1, {last: 1}),
                                    ("zero-paid", 1, {first: 0, last: 0}),
                                    ("not-government", 0, {})):
        project(conn, pid)
        code = f"2025-150203-47-01-{len(pid):06d}{pid[:1]}"
        _insert(conn, "night_link", run_date=D, project_id=pid, investment_code=code)
        _insert(conn, "investment_project", bundle_day=BUNDLE, investment_code=code,
                code_normalised=code, payload_hash=f"i-{pid}", batch_id="b",
                government_invested=government)
        for month, fen in labour.items():
            _insert(conn, "fund_disbursement", bundle_day=BUNDLE, investment_code=code,
                    month=month, code_normalised=code, payload_hash=f"f-{pid}-{month}",
                    batch_id="b", labour_fen=fen)
    # A row of an earlier bundle no longer valid in the night's does not count.
    _insert(conn, "fund_disbursement", bundle_day=BUNDLE - dt.timedelta(days=3),
            valid_to=BUNDLE, investment_code="old", month=last,
            code_normalised=f"2025-150203-47-01-{len('none-paid'):06d}n", payload_hash="old",
            batch_id="b", labour_fen=5)
    assert flagged(conn, "GI1") == {"none-paid": "orange", "zero-paid": "orange"}


def test_pay1_and_rn1_the_latest_closed_month(conn):
    month = bound_params(D, BUNDLE, load_params())["closed_month"]
    rows = (("paid-short", 100, 96, 750_000, 749_999), ("paid-all", 100, 96, 750_000, 750_000),
            ("attendance-89", 100, 89, 1, 1), ("attendance-90", 100, 90, 1, 1),
            ("nobody-registered", 0, 0, 1, 1))
    for pid, registered, attending, payroll, paid in rows:
        project(conn, pid)
        _insert(conn, "night_realname_month", run_date=D, project_id=pid, month=month,
                payload_hash="h", registered_workers=registered, attending_workers=attending,
                payroll_fen=payroll, paid_via_contractor_fen=paid)
    project(conn, "no-row")
    assert flagged(conn, "PAY1") == {"paid-short": "orange"}
    assert flagged(conn, "RN1") == {"attendance-89": "yellow"}


def test_a_project_out_of_scope_raises_nothing(conn):
    project(conn, "completed", status="completed")
    conn.execute(text("UPDATE night_project SET active = 0 WHERE project_id = 'completed'"))
    assert all("completed" not in flagged(conn, code) for code in RULES)


def test_every_flag_is_kept_however_many_a_rule_finds(conn, monkeypatch):
    """Flags are found and staged a batch at a time: a rule that finds more
    than a batch has every flag kept, and counted."""
    from wageguard.rules import evaluate

    for n in range(5):
        project(conn, f"P{n}")
    monkeypatch.setattr(evaluate, "FLAG_BATCH", 2)
    counts = evaluate.evaluate_rules(conn, D, BUNDLE, [RULES["WA1"], RULES["WA2"]],
                                     load_params())
    assert counts == {"WA1": 5, "WA2": 0}
    kept = conn.execute(text("SELECT project_id, rule FROM flag_night WHERE run_date = :d"),
                        {"d": D}).all()
    assert sorted(kept) == [(f"P{n}", "WA1") for n in range(5)]
