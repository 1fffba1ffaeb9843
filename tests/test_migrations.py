"""Warehouse schema migrations with Alembic, on both backends: a warehouse made
by the previous schema version, or by the ordered-SQL runner that came before
Alembic, is upgraded in place and keeps its data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, text
from wageguard.db.sqlfiles import files_in, run_file
from wageguard.db.values import as_date
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.migrate import SCRIPTS, migrate

NIGHT = {"d": dt.date(2026, 11, 20), "c": "2026-11-21T01:05:00+08:00", "b": None,
         "p": "{}", "t": "2026-11-21T01:09:00+08:00"}


def _schema_files() -> list[str]:
    return [path.split("/")[-1] for path in files_in("schema")]


def _publish_a_night(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO night (run_date, knowledge_cutoff, bundle_day, params, "
            "first_published_at, last_published_at) VALUES (:d, :c, :b, :p, :t, :t)"), NIGHT)


def _head() -> int:
    return int(_schema_files()[-1].split("_")[0])


def _indexes(engine, *tables: str) -> set[str]:
    return {index["name"] for table in tables for index in inspect(engine).get_indexes(table)}


def _assert_upgraded_with_data(engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert "schema_version" not in tables
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            f"{_head():04d}")
        assert conn.execute(text("SELECT knowledge_cutoff FROM night")).scalar() == NIGHT["c"]
    assert "delivery" in tables
    assert {"investment_project_code_valid", "fund_disbursement_code_valid",
            "investment_project_open", "fund_disbursement_open"} <= _indexes(
        engine, "investment_project", "fund_disbursement")
    assert "landing_record" not in tables
    assert "packed" in {c["name"] for c in inspect(engine).get_columns("payload")}


def test_every_schema_file_is_one_revision_of_one_chain():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(SCRIPTS))
    assert len(scripts.get_heads()) == 1
    chain = list(reversed(list(scripts.walk_revisions())))
    assert [(s.revision, s.module.upgrade.__doc__) for s in chain] == [
        (name[:4], f"Applies sql/schema/{name}.") for name in _schema_files()]


def test_a_warehouse_at_the_previous_version_is_upgraded_in_place(warehouse_url):
    engine = make_engine(warehouse_url)
    previous = _head() - 1
    assert migrate(engine, f"{previous:04d}") == previous
    _publish_a_night(engine)
    assert migrate(engine) == _head()
    _assert_upgraded_with_data(engine)
    assert migrate(engine) == _head(), "a warehouse already up to date is left as it is"


def test_a_warehouse_made_before_alembic_is_adopted_and_upgraded(warehouse_url):
    engine = make_engine(warehouse_url)
    legacy = _schema_files()[:4]
    with engine.begin() as conn:  # what the ordered-SQL runner left behind
        conn.execute(text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                          "name TEXT NOT NULL, applied_at TEXT NOT NULL)"))
        for name in legacy:
            run_file(conn, f"schema/{name}")
            conn.execute(text("INSERT INTO schema_version VALUES (:v, :n, :t)"),
                         {"v": int(name[:4]), "n": f"schema/{name}", "t": NIGHT["t"]})
    _publish_a_night(engine)
    assert migrate(engine) == _head()
    _assert_upgraded_with_data(engine)


def test_every_nights_flags_become_versions_and_read_as_they_were(warehouse_url):
    engine = make_engine(warehouse_url)
    migrate(engine, "0016")
    n1, n2, n3, n4, n5 = (dt.date(2026, 11, d) for d in (17, 18, 19, 20, 21))
    p, q = "ZJ150203-2025-00123", "ZJ150203-2025-00456"
    flags = [  # (night, project, rule, raised_on, detail, district, project name)
        *((n, p, "WA1", n1, "{}", "150203", "某某小区") for n in (n1, n2, n3)),
        (n4, p, "WA1", n1, '{"x": 1}', "150203", "某某小区"),  # new facts
        (n1, q, "WD1", n1, "{}", None, None),
        (n3, q, "WD1", n3, "{}", None, None),  # ended on n2, back on n3
    ]
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO flag_night (run_date, project_id, rule, base_severity, raised_on, "
            "rule_version, detail, district_code, project_name) "
            "VALUES (:n, :p, :r, 'red', :raised, '1', :x, :district, :name)"),
            [dict(zip(("n", "p", "r", "raised", "x", "district", "name"), f, strict=True))
             for f in flags])
        conn.execute(text(  # published with no flags at all
            "INSERT INTO night (run_date, knowledge_cutoff, bundle_day, params, "
            "first_published_at, last_published_at) VALUES (:d, :c, :b, :p, :t, :t)"),
            {**NIGHT, "d": n5})
    migrate(engine)
    with engine.connect() as conn:
        versions = conn.execute(text(
            "SELECT project_id, rule, first_night, last_night FROM flag_version "
            "ORDER BY project_id, rule, first_night")).all()
        read = conn.execute(text(
            "SELECT run_date, project_id, rule, raised_on, detail, district_code, project_name "
            "FROM flag_night")).all()
        nights = conn.execute(text("SELECT run_date FROM evaluated_night "
                                   "ORDER BY run_date")).scalars().all()
    engine.dispose()
    assert [(pr, r, as_date(first), as_date(last)) for pr, r, first, last in versions] == [
        (p, "WA1", n1, n3), (p, "WA1", n4, n4), (q, "WD1", n1, n1), (q, "WD1", n3, n3)]
    assert sorted((as_date(n), pr, r, as_date(raised), *rest)
                  for n, pr, r, raised, *rest in read) == sorted(flags)
    assert [as_date(n) for n in nights] == [n1, n2, n3, n4, n5]


def test_versions_holding_through_the_latest_night_become_open(warehouse_url):
    from wageguard.rules.flag_versions import OPEN_END

    engine = make_engine(warehouse_url)
    migrate(engine, "0021")
    n1, n2, n3 = (dt.date(2026, 11, d) for d in (17, 18, 19))
    p, q = "ZJ150203-2025-00123", "ZJ150203-2025-00456"
    read_flags = text("SELECT run_date, project_id, rule FROM flag_night "
                      "ORDER BY run_date, project_id")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO evaluated_night (run_date) VALUES (:n)"),
                     [{"n": n} for n in (n1, n2, n3)])
        conn.execute(text(
            "INSERT INTO flag_version (project_id, rule, first_night, last_night, "
            "base_severity, raised_on, rule_version, detail) "
            "VALUES (:p, 'WA1', :first, :last, 'red', :first, '1', '{}')"),
            [{"p": p, "first": n1, "last": n3}, {"p": q, "first": n1, "last": n2}])
        before = conn.execute(read_flags).all()
    migrate(engine)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT project_id, last_night FROM flag_version "
                                     "ORDER BY project_id")).all()
        after = conn.execute(read_flags).all()
    engine.dispose()
    assert [(pr, as_date(last)) for pr, last in versions] == [(p, OPEN_END), (q, n2)]
    assert after == before and len(before) == 5


def test_payload_hashes_held_as_hex_are_kept_as_their_bytes(warehouse_url):
    engine = make_engine(warehouse_url)
    migrate(engine, "0023")
    digest = "0f" * 31 + "a9"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO payload (payload_hash, batch_id, ordinal, packed) "
                          "VALUES (:h, 'b1', 0, :p)"), {"h": digest, "p": b"packed"})
        conn.execute(text(
            "INSERT INTO project_version (project_id, updated_at, payload_hash, batch_id, "
            "loaded_at, deleted) VALUES ('P1', 't', :h, 'b1', 't', 0)"), {"h": digest})
        conn.execute(text(
            "INSERT INTO record_warning (source_table, payload_hash, expectation, severity, "
            "batch_id, ordinal) VALUES ('projects', :h, 'e', 'warning', 'b1', 0)"), {"h": digest})
    migrate(engine)
    with engine.connect() as conn:
        held = conn.execute(text(
            "SELECT p.payload_hash, v.project_id, w.expectation FROM payload p "
            "JOIN project_version v ON v.payload_hash = p.payload_hash "
            "JOIN record_warning w ON w.payload_hash = p.payload_hash")).all()
        found = conn.execute(text("SELECT project_id FROM project_version "
                                  "WHERE payload_hash = :h"), {"h": bytes.fromhex(digest)}
                             ).scalar()
    engine.dispose()
    assert [tuple(row) for row in held] == [(bytes.fromhex(digest), "P1", "e")]
    assert found == "P1"


def test_every_payload_hash_is_declared_alike(warehouse_url):
    """BYTEA in every table, so that SQLite, which gives a column its
    affinity by its declared type, compares any two of them by index."""
    engine = make_engine(warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            declared = {table: type_ for table in inspect(conn).get_table_names()
                        for _, name, type_, *_ in conn.execute(text(f"PRAGMA table_info({table})"))
                        if name == "payload_hash"}
        else:
            declared = dict(conn.execute(text(
                "SELECT table_name, upper(data_type) FROM information_schema.columns "
                "WHERE column_name = 'payload_hash' AND table_schema = current_schema()")).all())
    engine.dispose()
    assert len(declared) >= 16 and set(declared.values()) == {"BYTEA"}, declared


def test_a_hash_not_in_hex_stops_the_upgrade_with_where_and_leaves_the_warehouse(
        warehouse_url):
    from wageguard.warehouse.migrate import current_revision

    engine = make_engine(warehouse_url)
    migrate(engine, "0023")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO project_version (project_id, updated_at, payload_hash, batch_id, "
            "loaded_at, deleted) VALUES ('P1', 't', 'typed by hand', 'b1', 't', 0)"))
    with pytest.raises(RuntimeError, match="upgrading project_version: a payload_hash") as why:
        migrate(engine)
    with engine.connect() as conn:
        found = conn.execute(text(str(why.value).split("Find it with ")[1].split(";")[0])).all()
        revision = current_revision(conn)
        declared = [c["type"] for c in inspect(conn).get_columns("project_version")
                    if c["name"] == "payload_hash"]
    engine.dispose()
    assert [row.project_id for row in found] == ["P1"], "the query given finds the row"
    assert revision == "0023"
    assert "TEXT" in str(declared[0]).upper()
