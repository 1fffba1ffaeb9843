"""The warehouse is chosen by one setting: a SQLAlchemy URL, or the
wageguard_warehouse Airflow connection in either of its environment forms."""

from __future__ import annotations

import json

import pytest
from conftest import PG_URL
from sqlalchemy import make_url
from wageguard.warehouse.engine import CONNECTION_ENV, DEFAULT_URL_ENV, make_engine, warehouse_url
from wageguard.warehouse.migrate import migrate


def _airflow_forms(url: str) -> dict[str, str]:
    parts = make_url(url)
    uri = parts.set(drivername="postgres").render_as_string(hide_password=False)
    spec = {"conn_type": "postgres", "host": parts.host, "port": parts.port,
            "login": parts.username, "password": parts.password, "schema": parts.database}
    return {"uri": uri, "json": json.dumps(spec)}


@pytest.mark.parametrize("form", ["uri", "json"])
def test_the_airflow_connection_reaches_the_postgresql_warehouse(form, monkeypatch):
    monkeypatch.delenv(DEFAULT_URL_ENV, raising=False)
    monkeypatch.setenv(CONNECTION_ENV, _airflow_forms(PG_URL)[form])
    url = warehouse_url()
    assert make_url(url).drivername == "postgresql+psycopg"
    engine = make_engine(url)
    assert migrate(engine) >= 1
    assert engine.dialect.name == "postgresql"


def test_the_url_setting_wins_over_the_connection(monkeypatch, tmp_path):
    monkeypatch.setenv(CONNECTION_ENV, _airflow_forms(PG_URL)["uri"])
    monkeypatch.setenv(DEFAULT_URL_ENV, f"sqlite:///{tmp_path / 'w.db'}")
    assert warehouse_url() == f"sqlite:///{tmp_path / 'w.db'}"
