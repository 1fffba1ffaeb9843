"""A SQLAlchemy engine for the warehouse URL, with the embedded default.

SQLite is the embedded default (no server); PostgreSQL is the production
warehouse. Both run the same SQL from sql/."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3

from sqlalchemy import URL, Engine, create_engine, event, make_url

from wageguard.paths import var_dir
from wageguard.plan import WAREHOUSE_CONNECTION

DEFAULT_URL_ENV = "WAGEGUARD_WAREHOUSE_URL"
CONNECTION_ENV = f"AIRFLOW_CONN_{WAREHOUSE_CONNECTION.upper()}"
_POSTGRES_DRIVER = "postgresql+psycopg"

# Python 3.12 deprecates sqlite3's implicit date adapter; dates must reach
# SQLite as ISO text so that they compare with the stored ISO text.
sqlite3.register_adapter(dt.date, dt.date.isoformat)


def url_of_connection(value: str) -> str:
    """A SQLAlchemy URL from an Airflow connection in either of Airflow's
    environment forms: a URI (postgres://user:pw@host:5432/db) or JSON."""
    if value.lstrip().startswith("{"):
        spec = json.loads(value)
        return URL.create(
            _POSTGRES_DRIVER, username=spec.get("login"), password=spec.get("password"),
            host=spec.get("host"), port=spec.get("port"), database=spec.get("schema"),
        ).render_as_string(hide_password=False)
    url = make_url(value)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername=_POSTGRES_DRIVER)
    return url.render_as_string(hide_password=False)


def warehouse_url() -> str:
    """WAGEGUARD_WAREHOUSE_URL, else the wageguard_warehouse connection from
    the environment, else the embedded SQLite file."""
    url = os.environ.get(DEFAULT_URL_ENV)
    if url:
        return url
    connection = os.environ.get(CONNECTION_ENV)
    if connection:
        return url_of_connection(connection)
    path = var_dir("warehouse.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def make_engine(url: str | None = None) -> Engine:
    url = url or warehouse_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets a reader (an export) run beside a writer; foreign keys are
            # not used, so only durability and concurrency settings matter here.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # Transactions are begun explicitly below, not by the driver.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _take_the_write_lock_first(conn):
            # Parallel tasks (LocalExecutor) write the same file: a transaction
            # that read first and then tried to write could fail at once with
            # "database is locked"; taking the lock at BEGIN makes it wait its
            # turn instead (up to the connect timeout).
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def describe(engine: Engine) -> str:
    """The URL without its password, for logs and reports."""
    return engine.url.render_as_string(hide_password=True)
