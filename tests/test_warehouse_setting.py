"""The warehouse is the wageguard_warehouse Airflow connection, read through
Airflow's secrets backends with its extras kept, else WAGEGUARD_WAREHOUSE_URL,
else the embedded SQLite file."""

from __future__ import annotations

import json

import pytest
from conftest import PG_URL, _reset_postgres
from sqlalchemy import make_url, text
from wageguard.plan import WAREHOUSE_CONNECTION
from wageguard.warehouse.engine import (
    DEFAULT_URL_ENV,
    make_engine,
    url_of_connection,
    warehouse_url,
)
from wageguard.warehouse.migrate import migrate

CONNECTION_ENV = f"AIRFLOW_CONN_{WAREHOUSE_CONNECTION.upper()}"
EXTRA = {"sslmode": "disable", "application_name": "wageguard-night", "connect_timeout": 5}


def _airflow_forms(url: str, extra: dict) -> dict[str, str]:
    parts = make_url(url)
    uri = parts.set(drivername="postgres", query={k: str(v) for k, v in extra.items()})
    spec = {"conn_type": "postgres", "host": parts.host, "port": parts.port,
            "login": parts.username, "password": parts.password, "schema": parts.database,
            "extra": extra}
    return {"uri": uri.render_as_string(hide_password=False), "json": json.dumps(spec)}


@pytest.fixture
def no_setting(monkeypatch, airflow_env, tmp_path):
    monkeypatch.delenv(CONNECTION_ENV, raising=False)
    monkeypatch.delenv(DEFAULT_URL_ENV, raising=False)
    monkeypatch.setenv("WAGEGUARD_HOME", str(tmp_path))
    return monkeypatch


@pytest.mark.parametrize("form", ["uri", "json"])
def test_the_airflow_connection_reaches_the_postgresql_warehouse_with_its_extras(form,
                                                                               no_setting):
    _reset_postgres(PG_URL)
    no_setting.setenv(CONNECTION_ENV, _airflow_forms(PG_URL, EXTRA)[form])
    url = make_url(warehouse_url())
    assert url.drivername == "postgresql+psycopg"
    assert dict(url.query) == {k: str(v) for k, v in EXTRA.items()}
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        assert migrate(engine) >= 1
        with engine.connect() as conn:  # the extras reached libpq
            assert conn.execute(text("SHOW application_name")).scalar() == "wageguard-night"
    finally:
        engine.dispose()


@pytest.mark.parametrize("form", ["uri", "json"])
def test_sslmode_verify_full_reaches_the_url(form):
    extra = {"sslmode": "verify-full", "sslrootcert": "/etc/wageguard/ca.pem"}
    url = make_url(url_of_connection(_airflow_forms(
        "postgresql://wageguard:p%40ss@warehouse.example.gov.cn:5432/wageguard", extra)[form]))
    assert (url.drivername, url.host, url.password) == (
        "postgresql+psycopg", "warehouse.example.gov.cn", "p@ss")
    assert dict(url.query) == extra


def test_the_providers_own_extras_stay_out_of_the_url():
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from wageguard.warehouse.engine import _NOT_LIBPQ

    assert PostgresHook.ignored_extra_options == _NOT_LIBPQ
    url = url_of_connection(json.dumps({"conn_type": "postgres", "host": "h", "schema": "w",
                                        "extra": {"cursor": "dictcursor", "sslmode": "require"}}))
    assert dict(make_url(url).query) == {"sslmode": "require"}


def test_a_warehouse_connection_of_another_type_is_refused():
    with pytest.raises(ValueError, match="WAGEGUARD_WAREHOUSE_URL"):
        url_of_connection(json.dumps({"conn_type": "sqlite", "host": "/tmp/w.db"}))


def test_the_connection_wins_then_the_url_then_the_embedded_file(no_setting, tmp_path):
    assert warehouse_url() == f"sqlite:///{tmp_path / 'var' / 'warehouse.db'}"
    no_setting.setenv(DEFAULT_URL_ENV, f"sqlite:///{tmp_path / 'w.db'}")
    assert warehouse_url() == f"sqlite:///{tmp_path / 'w.db'}"
    no_setting.setenv(CONNECTION_ENV, _airflow_forms(PG_URL, {})["uri"])
    assert make_url(warehouse_url()).database == make_url(PG_URL).database


def test_an_sqlite_too_old_for_the_schema_is_refused_saying_what_to_do(monkeypatch, tmp_path):
    import sqlite3

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(RuntimeError, match=r"needs SQLite 3\.35 or later; this Python's sqlite3 "
                                           r"module has SQLite 3\.31\.1.*WAGEGUARD_WAREHOUSE_URL"):
        make_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    assert not (tmp_path / "warehouse.db").exists(), "refused before the file is made"
