"""Flags kept as versions over runs of nights (rules/flag_versions.py), on both
warehouses: given the flags of evaluated nights, in whatever order they are
evaluated, the versions are the fewest that hold them and `flag_night` gives
each night exactly the flags it was last given."""

from __future__ import annotations

import datetime as dt
import random

from conftest import write_night_flags
from sqlalchemy import text
from wageguard.db.values import as_date
from wageguard.rules.flag_versions import FLAG_COLUMNS, OPEN_END

N1, N2, N3, N4, N5 = (dt.date(2026, 11, d) for d in (17, 18, 19, 20, 21))
P, Q = "ZJ150203-2025-00123", "ZJ150203-2025-00456"


def flag(project: str = P, rule: str = "WA1", raised_on: dt.date = N1, *,
         detail: str = "{}", district: str | None = "150203",
         name: str | None = "某某小区") -> tuple:
    return (project, rule, "red", raised_on, "1", detail, district, name)


def evaluate(engine, night: dt.date, *flags: tuple) -> None:
    with engine.begin() as conn:
        write_night_flags(conn, night, flags)


def versions(engine) -> list[tuple]:
    """(project, rule, first night, last night, raised_on, detail) of every version."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT project_id, rule, first_night, last_night, raised_on, detail "
            "FROM flag_version ORDER BY project_id, rule, first_night")).all()
    return [(p, r, as_date(first), as_date(last), as_date(raised), detail)
            for p, r, first, last, raised, detail in rows]


def flags_of(engine, night: dt.date) -> set[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {', '.join(FLAG_COLUMNS)} FROM flag_night "
                                 "WHERE run_date = :d"), {"d": night}).all()
    return {(*row[:3], as_date(row[3]), *row[4:]) for row in rows}


def test_a_flag_unchanged_night_after_night_is_one_version(engine):
    for night in (N1, N2, N3):
        evaluate(engine, night, flag())
    assert versions(engine) == [(P, "WA1", N1, OPEN_END, N1, "{}")]
    assert all(flags_of(engine, night) == {flag()} for night in (N1, N2, N3))


def test_the_next_night_writes_only_the_flags_that_end_change_or_start(engine):
    """An open version the night continues is left unwritten: on PostgreSQL a
    written row is a new row until VACUUM."""
    evaluate(engine, N1, flag(), flag(Q, "WD1"), flag(Q, "WA1"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE written (project_id TEXT, rule TEXT, what TEXT)"))
        for what in ("INSERT", "UPDATE", "DELETE"):
            row = "OLD" if what == "DELETE" else "NEW"
            body = (f"INSERT INTO written VALUES ({row}.project_id, {row}.rule, '{what}')")
            if engine.dialect.name == "sqlite":
                conn.execute(text(f"CREATE TRIGGER log_{what} AFTER {what} ON flag_version "
                                  f"BEGIN {body}; END"))
            else:
                conn.execute(text(f"CREATE FUNCTION log_{what}() RETURNS trigger "
                                  f"LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$"))
                conn.execute(text(f"CREATE TRIGGER log_{what} AFTER {what} ON flag_version "
                                  f"FOR EACH ROW EXECUTE FUNCTION log_{what}()"))
    evaluate(engine, N2, flag(), flag(Q, "WD1", detail='{"x": 1}'), flag(Q, "WD2"))
    with engine.connect() as conn:
        written = sorted(conn.execute(text("SELECT * FROM written")).all())
    assert written == [(Q, "WA1", "UPDATE"), (Q, "WD1", "INSERT"), (Q, "WD1", "UPDATE"),
                       (Q, "WD2", "INSERT")]
    assert flags_of(engine, N1) == {flag(), flag(Q, "WD1"), flag(Q, "WA1")}
    assert flags_of(engine, N2) == {flag(), flag(Q, "WD1", detail='{"x": 1}'), flag(Q, "WD2")}


def test_a_flag_without_district_or_name_is_still_the_same_flag(engine):
    for night in (N1, N2):
        evaluate(engine, night, flag(district=None, name=None))
    assert versions(engine) == [(P, "WA1", N1, OPEN_END, N1, "{}")]


def test_a_flag_that_ends_and_returns_is_a_new_version(engine):
    evaluate(engine, N1, flag())
    evaluate(engine, N2, flag())
    evaluate(engine, N3)
    evaluate(engine, N4, flag(raised_on=N4))
    assert versions(engine) == [(P, "WA1", N1, N2, N1, "{}"), (P, "WA1", N4, OPEN_END, N4, "{}")]
    assert flags_of(engine, N3) == set()


def test_new_facts_start_a_new_version(engine):
    evaluate(engine, N1, flag(detail='{"short": 1}'))
    evaluate(engine, N2, flag(detail='{"short": 2}'))
    evaluate(engine, N3, flag(detail='{"short": 2}'))
    assert versions(engine) == [(P, "WA1", N1, N1, N1, '{"short": 1}'),
                                (P, "WA1", N2, OPEN_END, N1, '{"short": 2}')]


def test_reevaluating_a_middle_night_cuts_and_joins_the_versions_around_it(engine):
    for night in (N1, N2, N3, N4, N5):
        evaluate(engine, night, flag())
    evaluate(engine, N3, flag(Q, "WD1", N3))
    assert versions(engine) == [(P, "WA1", N1, N2, N1, "{}"), (P, "WA1", N4, OPEN_END, N1, "{}"),
                                (Q, "WD1", N3, N3, N3, "{}")]
    assert flags_of(engine, N3) == {flag(Q, "WD1", N3)}
    assert flags_of(engine, N4) == {flag()}
    evaluate(engine, N3, flag())
    assert versions(engine) == [(P, "WA1", N1, OPEN_END, N1, "{}")]


def test_reevaluating_the_first_and_the_last_night(engine):
    for night in (N1, N2, N3):
        evaluate(engine, night, flag())
    evaluate(engine, N1, flag(detail='{"x": 1}'))
    evaluate(engine, N3)
    assert versions(engine) == [(P, "WA1", N1, N1, N1, '{"x": 1}'), (P, "WA1", N2, N2, N1, "{}")]
    evaluate(engine, N1, flag())
    evaluate(engine, N3, flag())
    assert versions(engine) == [(P, "WA1", N1, OPEN_END, N1, "{}")]


def test_a_night_evaluated_late_inside_a_version_takes_its_own_flags(engine):
    evaluate(engine, N1, flag())
    evaluate(engine, N3, flag())
    assert versions(engine) == [(P, "WA1", N1, OPEN_END, N1, "{}")], "N2 is no night of the flags"
    evaluate(engine, N2)
    assert versions(engine) == [(P, "WA1", N1, N1, N1, "{}"), (P, "WA1", N3, OPEN_END, N1, "{}")]
    assert [flags_of(engine, n) for n in (N1, N2, N3)] == [{flag()}, set(), {flag()}]


def test_backfilling_in_reverse_order_leaves_the_versions_as_they_were(engine):
    month = [N1 + dt.timedelta(days=i) for i in range(8)]
    given = {night: (flag(),) if i not in (3, 4) else (flag(raised_on=N5), flag(Q, "WD1"))
             for i, night in enumerate(month)}
    for night in month:
        evaluate(engine, night, *given[night])
    before = versions(engine)
    for night in reversed(month):
        evaluate(engine, night, *given[night])
    assert versions(engine) == before
    assert len(before) == 4


def test_any_order_of_evaluations_gives_each_night_its_last_flags_in_fewest_versions(engine):
    rng = random.Random(13)
    nights = [N1 + dt.timedelta(days=i) for i in range(6)]
    pool = [flag(p, r, raised, detail=d) for p in (P, Q) for r in ("WA1", "WD2")
            for raised in (N1, N3) for d in ("{}", '{"x": 1}')]
    held: dict[dt.date, set[tuple]] = {}
    for _ in range(25):
        night = rng.choice(nights)
        chosen = {}
        for candidate in rng.sample(pool, rng.randint(0, 4)):
            chosen[candidate[:2]] = candidate  # one row per project and rule
        evaluate(engine, night, *chosen.values())
        held[night] = set(chosen.values())
        for seen, flags in held.items():
            assert flags_of(engine, seen) == flags, f"night {seen}"
        assert len(versions(engine)) == _fewest_versions(held)


def _fewest_versions(held: dict[dt.date, set[tuple]]) -> int:
    """Runs of evaluated nights over which a flag holds with one content."""
    runs, before = 0, set()
    for night in sorted(held):
        runs += len(held[night] - before)
        before = held[night]
    return runs


def test_one_nights_read_goes_by_index(tmp_path):
    """The view gives a night from an index range, not from every version of every night."""
    from wageguard.warehouse.engine import make_engine
    from wageguard.warehouse.migrate import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    with engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(
            text("EXPLAIN QUERY PLAN SELECT * FROM flag_night WHERE run_date = :d"), {"d": N2}))
    engine.dispose()
    assert "SCAN" not in plan, plan
