"""Writing many rows at once, the fast way each warehouse offers: executemany
straight to SQLite, COPY into PostgreSQL. The one place the two warehouses are
written differently; SQLAlchemy's per-row parameter handling is bypassed, as it
costs more than the write itself at province scale. Reading many rows is here
too: a province's rows stream, a batch at a time."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, CursorResult, TextClause, text

Row = Sequence[object]


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def write_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Row], *,
               may_exist: bool) -> int:
    """Insert `rows` (tuples in `columns` order) into `table` within the
    connection's transaction; returns how many went in. With `may_exist`, a
    row whose primary key is already there is skipped, as a re-pulled version
    or a re-loaded bundle is; without it, every row is new (a fresh batch) and
    goes in directly. `rows` may stream: they are written as they come."""
    names = ", ".join(columns)
    driver = conn.connection.driver_connection
    assert driver is not None, "a connection in use has its driver connection"
    if not is_postgres(conn):
        marks = ", ".join("?" * len(columns))
        skip = " ON CONFLICT DO NOTHING" if may_exist else ""
        return driver.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks}){skip}", rows).rowcount
    cursor = driver.cursor()
    if not may_exist:
        _copy(cursor, table, names, rows)
        return cursor.rowcount
    # COPY cannot skip a conflicting row: copy into a staging table, then keep
    # what is new.
    with _staged(conn, table, columns) as stage:
        _copy(cursor, stage.name, names, rows)
    return stage.inserted


class _Stage:
    def __init__(self, name: str) -> None:
        self.name, self.inserted = name, 0


@contextmanager
def _staged(conn: Connection, table: str, columns: Sequence[str],
            order: str | None = None) -> Iterator[_Stage]:
    """A private temporary table shaped as `columns` of `table`, made afresh
    (in the table's shape of the moment) and dropped after; on leaving, its
    rows go into `table` (in `order` if given), a row whose primary key is
    already there skipped, and `inserted` says how many went in. On a failure
    the transaction's rollback takes the table with it."""
    names = ", ".join(columns)
    stage = _Stage(f"staged_{table}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {stage.name} AS "
                         f"SELECT {names} FROM {table} WHERE 1 = 0")
    yield stage
    stage.inserted = conn.exec_driver_sql(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage.name}"
        f"{f' ORDER BY {order}' if order else ''} ON CONFLICT DO NOTHING").rowcount
    conn.exec_driver_sql(f"DROP TABLE {stage.name}")


@contextmanager
def written_in_key_order(conn: Connection, table: str, columns: Sequence[str],
                         key: str) -> Iterator[Callable[[Iterable[Row]], int]]:
    """A writer of rows for `table`, which gathers them in a temporary table
    as they come; on leaving, they go into `table` in `key` order, in one
    statement, a row whose primary key is already there skipped (the first
    by `key` kept). A table keyed by a hash takes rows all over its index:
    in key order each page is taken once (SQLite, 427 k payloads: 3.5 s row by
    row as they came, 1.6 s staged and sorted)."""
    with _staged(conn, table, columns, order=key) as stage:
        yield lambda rows: write_rows(conn, stage.name, columns, rows, may_exist=False)


@contextmanager
def indexes_built_after(conn: Connection, table: str) -> Iterator[None]:
    """For filling an empty `table`: its indexes other than the primary key's
    are dropped while the rows go in, and built again on leaving, each in one
    sorted pass instead of row by row at random places (a bundle's index by
    payload hash: 233 k disbursement rows, 1.72 s into the indexed table, 1.26 s
    with the index built after, in a bare SQLite test). Into a table that holds
    rows already it would cost a whole table's sort each time: not for that.
    The drop is transactional on both warehouses: a failed fill keeps them."""
    if is_postgres(conn):
        indexes = conn.execute(text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisprimary"),
            {"t": table}).all()
    else:
        indexes = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
            "AND sql IS NOT NULL"), {"t": table}).all()
    for name, _ in indexes:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    yield
    for _, definition in indexes:
        conn.exec_driver_sql(definition)


# Rows a streamed query fetches at a time.
_FETCH = 10_000


def stream_rows(conn: Connection, query: TextClause, params: dict) -> CursorResult:
    """The rows of `query`, fetched a batch at a time as they are read (a
    server-side cursor on PostgreSQL): a row per project or per flag of a
    province is a gigabyte of Python objects when fetched whole. Read it to
    the end before the connection writes again: a COPY cannot run while a
    server-side cursor is being read."""
    if is_postgres(conn):
        # The planner would otherwise plan a cursor for its first tenth of rows
        # (nested loops: 4.3 s instead of 0.8 s for a bundle's anti-join at
        # 50,000 projects); every stream is read whole.
        conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
    return conn.execute(query.execution_options(yield_per=_FETCH), params)


def rows_matching(conn: Connection, select: str, column: str,
                  values: Sequence[str | bytes]) -> list[tuple]:
    """The rows of `select` (a query without WHERE) whose `column` (an indexed
    one) is one of `values`, asked the driver's way: SQLAlchemy would compile a
    new statement for each list."""
    driver = conn.connection.driver_connection
    assert driver is not None, "a connection in use has its driver connection"
    if is_postgres(conn):
        with driver.cursor() as cursor:
            cursor.execute(f"{select} WHERE {column} = ANY(%s)", (list(values),))
            return cursor.fetchall()
    marks = ", ".join("?" * len(values))
    return driver.execute(f"{select} WHERE {column} IN ({marks})", values).fetchall()


def _copy(cursor, table: str, names: str, rows: Iterable[Row]) -> None:
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def refresh_statistics(conn: Connection, tables: Iterable[str]) -> None:
    """PostgreSQL plans from statistics that a bulk load leaves stale: without
    them a rule over freshly loaded tables can run a hundred times slower.
    What the plans need is each table's size and the rough spread of its
    values, which a sample of a few thousand rows gives at a tenth of the
    default sample's cost. SQLite's planner needs none for these tables."""
    if is_postgres(conn):
        conn.exec_driver_sql("SET LOCAL default_statistics_target = 10")
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")


def lock_for_writing(conn: Connection, table: str) -> None:
    """Hold `table` against other writers until commit, so that what a load
    decides from its contents stays true while it writes. SQLite's write
    transaction already holds the whole database."""
    if is_postgres(conn):
        conn.exec_driver_sql(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


# SQLite's page cache while a pull is written, in KiB. Its default, 2 MB, holds
# a few hundred pages, while a pull's rows go into indexes keyed by payload
# hash, all over them. Measured loading a province (50,000 projects): 19.5 s
# with the default, 16.9 s with 32 MB (8 MB more at peak), 16.2 s with 64 MB
# (35 MB more, which the process keeps once freed).
_WRITE_CACHE_KIB = 32768


@contextmanager
def write_cache(conn: Connection) -> Iterator[None]:
    """A page cache sized for writing a pull, for as long as it is written;
    then SQLite's own again, which frees it. PostgreSQL's is the server's."""
    if is_postgres(conn):
        yield
        return
    driver = conn.connection.driver_connection
    assert driver is not None, "a connection in use has its driver connection"
    before = driver.execute("PRAGMA cache_size").fetchone()[0]
    driver.execute(f"PRAGMA cache_size = -{_WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {before}")


@contextmanager
def bulk_work() -> Iterator[None]:
    """Bulk work builds millions of short-lived, acyclic objects (decoded
    records, rows); the cycle collector would walk the whole process heap,
    Airflow's included, again and again while they are built, tripling the
    cost. Cycles made meanwhile are collected when it resumes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
