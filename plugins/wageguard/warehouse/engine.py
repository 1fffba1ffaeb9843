"""A SQLAlchemy engine for the warehouse URL, with the embedded default.

SQLite is the embedded default (no server); PostgreSQL is the production
warehouse. Both run the same SQL from sql/."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from types import SimpleNamespace

from sqlalchemy import URL, Engine, create_engine, event, make_url

from wageguard.paths import var_dir
from wageguard.plan import WAREHOUSE_CONNECTION
from wageguard.sources.config import ConnectionLike, connection_extra

DEFAULT_URL_ENV = "WAGEGUARD_WAREHOUSE_URL"
_POSTGRES_DRIVER = "postgresql+psycopg"
# The postgres provider's extras that are no libpq parameters
# (PostgresHook.ignored_extra_options); every other extra is one, as the hook
# passes it to libpq, so it goes into the URL's query.
_NOT_LIBPQ = frozenset({
    "iam", "redshift", "redshift-serverless", "cursor", "cluster-identifier", "workgroup-name",
    "aws_conn_id", "sqlalchemy_scheme", "sqlalchemy_query", "azure_conn_id",
})

# The oldest SQLite the schema runs on: revision 0020 drops a column
# (ALTER TABLE ... DROP COLUMN came with 3.35).
SQLITE_AT_LEAST = (3, 35)

# Python 3.12 deprecates sqlite3's implicit date adapter; dates must reach
# SQLite as ISO text so that they compare with the stored ISO text.
sqlite3.register_adapter(dt.date, dt.date.isoformat)


def _connection_of_text(value: str) -> SimpleNamespace:
    """A connection from either of Airflow's environment forms: JSON, or a URI
    (postgres://user:pw@host:5432/db?sslmode=verify-full) whose query holds the
    extras."""
    if value.lstrip().startswith("{"):
        spec = json.loads(value)
        extra = spec.get("extra") or {}
        return SimpleNamespace(
            conn_type=spec.get("conn_type"), host=spec.get("host"), port=spec.get("port"),
            login=spec.get("login"), password=spec.get("password"), schema=spec.get("schema"),
            extra_dejson=json.loads(extra) if isinstance(extra, str) else extra)
    url = make_url(value)
    return SimpleNamespace(conn_type=url.drivername, host=url.host, port=url.port,
                           login=url.username, password=url.password, schema=url.database,
                           extra_dejson=dict(url.query))


def url_of_connection(conn: ConnectionLike | str) -> str:
    """A SQLAlchemy URL from the warehouse's Airflow connection (a postgres one),
    or from either of its environment forms; its extras (sslmode, sslrootcert,
    connect_timeout, ...) become the URL's query parameters."""
    if isinstance(conn, str):
        conn = _connection_of_text(conn)
    if not (conn.conn_type or "").startswith("postgres"):
        raise ValueError(
            f"the {WAREHOUSE_CONNECTION} connection is of type {conn.conn_type!r}: the "
            f"warehouse connection is a postgres one; for SQLite, set {DEFAULT_URL_ENV}")
    query = {key: str(value) for key, value in connection_extra(conn).items()
             if key not in _NOT_LIBPQ}
    return URL.create(
        _POSTGRES_DRIVER, username=conn.login or None, password=conn.password or None,
        host=conn.host or None, port=conn.port or None, database=conn.schema or None,
        query=query,
    ).render_as_string(hide_password=False)


def _airflow_connection():
    """The warehouse connection from whichever secrets backend Airflow reads
    (its database, the environment, a vault), or None."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(WAREHOUSE_CONNECTION)
    except AirflowNotFoundException:
        return None


def warehouse_url() -> str:
    """The wageguard_warehouse Airflow connection, else WAGEGUARD_WAREHOUSE_URL,
    else the embedded SQLite file."""
    conn = _airflow_connection()
    if conn is not None:
        return url_of_connection(conn)
    url = os.environ.get(DEFAULT_URL_ENV)
    if url:
        return url
    path = var_dir("warehouse.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def make_engine(url: str | None = None) -> Engine:
    url = url or warehouse_url()
    if url.startswith("sqlite"):
        _refuse_old_sqlite()
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


def _refuse_old_sqlite() -> None:
    """Before any migration starts, rather than halfway with SQLite's own
    syntax error."""
    if sqlite3.sqlite_version_info < SQLITE_AT_LEAST:
        raise RuntimeError(
            f"the embedded warehouse needs SQLite {'.'.join(map(str, SQLITE_AT_LEAST))} or "
            f"later; this Python's sqlite3 module has SQLite {sqlite3.sqlite_version}. Run "
            f"wageguard on a Python built with a newer SQLite (the Airflow image has one), "
            f"or set {DEFAULT_URL_ENV} to a PostgreSQL warehouse.")


def describe(engine: Engine) -> str:
    """The URL without its password, for logs and reports."""
    return engine.url.render_as_string(hide_password=True)
