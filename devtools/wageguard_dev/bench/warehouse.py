"""Empty warehouses for benchmark runs: a fresh SQLite file, or a PostgreSQL
database of the benchmark's own, emptied (its name must say it is one); and
what a warehouse takes on disk, whole and by table."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.migrate import migrate


class BenchWarehouseError(RuntimeError):
    pass


def fresh_warehouse(backend: str, folder: Path, name: str, pg_url: str) -> str:
    """The URL of an empty, migrated warehouse called `name` on `backend`."""
    if backend == "sqlite":
        path = folder / f"{name}.db"
        for leftover in folder.glob(f"{name}.db*"):
            leftover.unlink()
        url = f"sqlite:///{path}"
    else:
        url = _empty_postgres(pg_url, name)
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return url


def warehouse_bytes(url: str) -> int:
    """The warehouse on disk: SQLite's file with its write-ahead log (a night's
    last pages may still be there), or PostgreSQL's pg_database_size."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None, "a benchmark's SQLite warehouse is a file"
        path = Path(parsed.database)
        return sum(f.stat().st_size for f in (path, path.with_name(f"{path.name}-wal"))
                   if f.exists())
    ((size,),) = _rows(url, "SELECT pg_database_size(current_database())")
    return int(size)


def table_bytes(url: str) -> dict[str, int]:
    """Bytes per table with its indexes (and TOAST on PostgreSQL), free pages
    not counted."""
    if make_url(url).get_backend_name() == "sqlite":
        sql = ("SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat s "
               "JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name")
    else:
        sql = ("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
               "WHERE c.relkind IN ('r', 'm') AND c.relnamespace = current_schema()::regnamespace")
    return {name: int(size) for name, size in _rows(url, sql)}


def _rows(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _empty_postgres(pg_url: str, name: str) -> str:
    """`name` as a suffix of the benchmark database, created if need be and
    emptied: never a database the benchmark was not given for itself."""
    base = make_url(pg_url)
    if "bench" not in (base.database or ""):
        raise BenchWarehouseError(
            f"{base.database!r} does not look like a benchmark database: the benchmark "
            "empties what it is given, so name one with 'bench' in it (e.g. wageguard_bench)")
    url = base.set(database=f"{base.database}_{name}")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                                  {"d": url.database}).first()
            if exists:
                conn.execute(text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()
    return url.render_as_string(hide_password=False)
