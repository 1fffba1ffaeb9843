"""The flag lifecycle in SQL (sql/flags/lifecycle.sql), given rows and
expected rows on both warehouses: what the rules found tonight becomes the
night's flags with the raised_on of the previous published night's run and the
project's place tonight (rules.md, "Flag lifecycle")."""

from __future__ import annotations

import datetime as dt

from conftest import write_night_flags
from sqlalchemy import text
from wageguard.db.values import as_date
from wageguard.rules.evaluate import carry_lifecycle
from wageguard.rules.flag_versions import keep_night_flags, stage_night_flags

N0, N1, D, LATER = (dt.date(2026, 11, d) for d in (18, 19, 21, 22))
P, Q = "ZJ150203-2025-00123", "ZJ150203-2025-00456"


def _published(conn, night: dt.date, flags: list[tuple]) -> None:
    """A published night and the flags it held, each (project, rule, raised_on)."""
    write_night_flags(conn, night, [(p, r, "red", raised, "1", "{}", "150203", "旧名")
                                    for p, r, raised in flags])
    conn.execute(text(
        "INSERT INTO night (run_date, knowledge_cutoff, params, first_published_at, "
        "last_published_at) VALUES (:d, 'x', '{}', 'x', 'x')"), {"d": night})


def _tonight(conn, found: list[tuple], projects: list[tuple]) -> set[tuple]:
    """Night D's flags from what the rules found, (project, rule), with
    night_project's (project, district, name); read back as (project, rule,
    raised_on, district, name)."""
    for project, district, name in projects:
        conn.execute(text(
            "INSERT INTO night_project (run_date, project_id, payload_hash, name, "
            "district_code, active) VALUES (:d, :p, 'h', :n, :c, 1)"),
            {"d": D, "p": project, "n": name, "c": district})
    stage_night_flags(conn, [[(p, r, "yellow", D, "1", "{}", None, None) for p, r in found]])
    carry_lifecycle(conn, D)
    keep_night_flags(conn, D)
    rows = conn.execute(text(
        "SELECT project_id, rule, raised_on, district_code, project_name FROM flag_night "
        "WHERE run_date = :d"), {"d": D}).all()
    return {(p, r, as_date(raised), c, n) for p, r, raised, c, n in rows}


def test_a_flag_the_previous_published_night_held_keeps_its_raised_on(engine):
    with engine.begin() as conn:
        _published(conn, N1, [(P, "WA1", N0), (Q, "WA1", N1)])
        assert _tonight(conn, [(P, "WA1"), (P, "WD1")], [(P, "150203", "某某小区")]) == {
            (P, "WA1", N0, "150203", "某某小区"),  # held on: first raised on N0
            (P, "WD1", D, "150203", "某某小区"),  # new tonight
        }


def test_a_flag_that_ended_and_came_back_is_raised_again(engine):
    with engine.begin() as conn:
        _published(conn, N0, [(P, "WA1", N0)])
        _published(conn, N1, [])  # the condition did not hold on N1: the run ended
        assert _tonight(conn, [(P, "WA1")], [(P, "150203", "某某小区")]) == {
            (P, "WA1", D, "150203", "某某小区")}


def test_the_previous_night_is_the_last_published_one_before_tonight(engine):
    with engine.begin() as conn:
        _published(conn, N0, [(P, "WA1", N0)])
        # N1 was evaluated but never published; a night after tonight (a reverse
        # backfill) does not count.
        write_night_flags(conn, N1, [])
        _published(conn, LATER, [])
        assert _tonight(conn, [(P, "WA1")], [(P, "150203", "某某小区")]) == {
            (P, "WA1", N0, "150203", "某某小区")}


def test_a_flag_takes_tonights_place_of_its_project_or_none(engine):
    with engine.begin() as conn:
        _published(conn, N1, [(P, "WA1", N1)])
        assert _tonight(conn, [(P, "WA1"), (Q, "CR1")], [(P, "150204", "新名")]) == {
            (P, "WA1", N1, "150204", "新名"),  # not the published night's district or name
            (Q, "CR1", D, None, None),
        }
