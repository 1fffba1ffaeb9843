"""Retention, on both backends: what only nights past the horizon could see is
dropped, what every night published is kept, and a night past the horizon is
refused when asked to run again."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import write_night_flags
from sqlalchemy import text
from test_load import project
from wageguard.landing.store import Landed, land
from wageguard.warehouse.load import load_batch
from wageguard.warehouse.night import night_view
from wageguard.warehouse.retention import (
    RetiredNightError,
    apply_retention,
    reclaim_space,
    retention_days,
)

OLD, NEW = dt.date(2025, 10, 1), dt.date(2026, 11, 21)


def _pull(engine, run_date, records) -> None:
    landed = Landed()
    with engine.begin() as conn:
        batch = land(conn, run_date=run_date, source_table="projects", source="test",
                     records=records, landed=landed)
    load_batch(engine, batch, landed.records(records), max_bad_share=0.5,
               min_rows_for_share=20)


def _publish(engine, run_date) -> None:
    with engine.begin() as conn:
        cutoff = conn.execute(text("SELECT MAX(loaded_at) FROM load_batch")).scalar()
        conn.execute(text(
            "INSERT INTO night (run_date, knowledge_cutoff, params, first_published_at, "
            "last_published_at) VALUES (:d, :c, '{}', :c, :c)"), {"d": run_date, "c": cutoff})
        write_night_flags(conn, run_date, [
            ("ZJ150203-2025-00001", "WA1", "red", run_date, "1", "{}", "150203", "某某小区")])


def _count(engine, sql, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_versions_only_nights_past_the_horizon_saw_are_dropped_and_the_night_refused(engine):
    _pull(engine, OLD, [project(1), project(2)])
    _publish(engine, OLD)
    _pull(engine, NEW, [project(1, name="改名", updated_at="2026-11-20T11:00:00+08:00")])
    _publish(engine, NEW)
    with engine.begin() as conn:
        dropped = apply_retention(conn, NEW, days=30)
    assert dropped == {"project_version": 1, "payload": 1}
    with engine.connect() as conn:
        kept = conn.execute(text(
            "SELECT project_id, name FROM project_version ORDER BY project_id")).all()
        assert [tuple(r) for r in kept] == [("ZJ150203-2025-00001", "改名"),
                                            ("ZJ150203-2025-00002", "某某小区1号楼")]
        assert night_view(conn, NEW, 10).rerun
        with pytest.raises(RetiredNightError, match="older than the retention horizon "
                                                    "2026-11-21"):
            night_view(conn, OLD, 10)
    assert _count(engine, "SELECT COUNT(*) FROM flag_night") == 2, "every night's flags stay"
    assert _count(engine, "SELECT COUNT(*) FROM load_batch") == 2, "the ledger stays"


def test_a_pull_landed_and_never_loaded_keeps_what_it_landed_past_the_horizon(engine):
    _pull(engine, OLD, [project(1)])
    _publish(engine, OLD)
    with engine.begin() as conn:  # landed, then the run stopped before its load
        stranded = land(conn, run_date=OLD, source_table="projects", source="test",
                        records=[project(3)]).batch_id
    _pull(engine, NEW, [project(1, name="改名", updated_at="2026-11-20T11:00:00+08:00")])
    _publish(engine, NEW)
    with engine.begin() as conn:
        apply_retention(conn, NEW, days=30)
    # What the source sent stays as evidence.
    assert _count(engine, "SELECT COUNT(*) FROM payload WHERE batch_id = :b", b=stranded) == 1


def test_within_the_horizon_nothing_goes(engine):
    _pull(engine, OLD, [project(1)])
    _publish(engine, OLD)
    _pull(engine, NEW, [project(1, name="改名", updated_at="2026-11-20T11:00:00+08:00")])
    _publish(engine, NEW)
    with engine.begin() as conn:
        assert apply_retention(conn, NEW, days=(NEW - OLD).days) == {}
        assert night_view(conn, OLD, 10).rerun


def test_space_is_given_back_once_much_of_the_file_lies_free(tmp_path):
    from wageguard.warehouse.engine import make_engine
    from wageguard.warehouse.migrate import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    assert not reclaim_space(engine), "a fresh warehouse has nothing to give back"
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE filler (x TEXT)"))
        conn.execute(text("INSERT INTO filler SELECT hex(randomblob(4000)) FROM "
                          "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                          "WHERE i < 2000) SELECT i FROM n)"))
    size = (tmp_path / "w.db").stat().st_size
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM filler"))
    assert reclaim_space(engine)
    engine.dispose()
    assert (tmp_path / "w.db").stat().st_size < size / 2


def test_the_retention_setting_is_checked(monkeypatch):
    monkeypatch.setenv("WAGEGUARD_RETENTION_DAYS", "a year")
    with pytest.raises(ValueError, match="whole number of days"):
        retention_days()
    monkeypatch.setenv("WAGEGUARD_RETENTION_DAYS", "365")
    assert retention_days() == 365


def _bytes_of(engine, table: str) -> int:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.execute(text("SELECT pg_total_relation_size(:t)"), {"t": table}).scalar()
        return conn.execute(text("SELECT SUM(pgsize) FROM dbstat WHERE name = :t"),
                            {"t": table}).scalar() or 0


def test_the_rows_a_night_dropped_leave_room_for_the_next_nights(engine):
    """As each night's snapshot goes once it is published: from the second
    night of a run on, a night's rows take the room the night before took,
    however soon it follows."""
    sizes = []
    for night in range(5):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO night_link (run_date, project_id, investment_code) "
                              "VALUES (:d, :p, :i)"),
                         [{"d": dt.date(2026, 11, 21 + night), "p": f"P{n:06d}",
                           "i": f"{n:064x}"} for n in range(3000)])
        sizes.append(_bytes_of(engine, "night_link"))
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM night_link"))
        reclaim_space(engine)
    assert sizes[0] > 0
    assert max(sizes) == sizes[1], sizes
