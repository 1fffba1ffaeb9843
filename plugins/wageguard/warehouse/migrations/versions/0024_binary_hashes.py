"""Payload hashes kept as their 32 bytes (sql/schema/0024_binary_hashes.sql says why)."""

import logging
import re

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError
from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0024", "0023"
log = logging.getLogger(__name__)

_CREATE = re.compile(r'^CREATE TABLE\s+"?\w+"?\s*\(', re.IGNORECASE)
_HASH_AS_TEXT = re.compile(r"\bpayload_hash\s+TEXT\b", re.IGNORECASE)


def _tables_with_hashes(conn: Connection) -> list[str]:
    found = inspect(conn)
    return sorted(t for t in found.get_table_names()
                  if any(c["name"] == "payload_hash" for c in found.get_columns(t)))


def _hashes_as_bytes(conn: Connection) -> None:
    tables = _tables_with_hashes(conn)
    if conn.dialect.name == "sqlite":
        # SQLite before 3.41 has no unhex().
        driver = conn.connection.driver_connection
        assert driver is not None, "a connection in use has its driver connection"
        driver.create_function("wageguard_unhex", 1, bytes.fromhex, deterministic=True)
    for done, table in enumerate(tables, start=1):
        try:
            if conn.dialect.name == "sqlite":
                _copied_with_bytes(conn, table)
            else:
                conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN payload_hash TYPE BYTEA "
                                  "USING decode(payload_hash, 'hex')"))
        except DBAPIError as failed:
            # Each driver says only that a value was not hex, or that a
            # function failed: the upgrade, rolled back whole, says where.
            not_hex = (f"SELECT * FROM {table} WHERE payload_hash GLOB '*[^0-9a-f]*' OR "
                       "length(payload_hash) <> 64" if conn.dialect.name == "sqlite" else
                       f"SELECT * FROM {table} WHERE payload_hash !~ '^[0-9a-f]{{64}}$'")
            raise RuntimeError(
                f"upgrading {table}: a payload_hash there is not 64 hex characters, so "
                f"wageguard did not write it. Find it with {not_hex}; mend or delete the "
                "row and run the upgrade again. The warehouse is as it was.") from failed
        log.info("payload hashes kept as bytes: %s (%d of %d tables)", table, done, len(tables))


def _copied_with_bytes(conn: Connection, table: str) -> None:
    """SQLite's way to change a column's type: the table made again under its
    own definition with the hash declared BYTEA, its rows copied, its indexes
    made again. The declaration matters beyond the name: it gives the column
    its affinity, and SQLite compares two hash columns by index only when
    both have the same one."""
    create, = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' "
                                "AND name = :t"), {"t": table}).one()
    indexes = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' "
                                "AND tbl_name = :t AND sql IS NOT NULL"), {"t": table}
                           ).scalars().all()
    columns = [name for _, name, *_ in conn.execute(text(f"PRAGMA table_info({table})"))]
    copy = f"{table}_with_bytes"
    conn.execute(text(_HASH_AS_TEXT.sub("payload_hash BYTEA",
                                        _CREATE.sub(f"CREATE TABLE {copy} (", create, count=1))))
    conn.execute(text(
        f"INSERT INTO {copy} ({', '.join(columns)}) SELECT "
        + ", ".join("wageguard_unhex(payload_hash)" if c == "payload_hash" else c
                    for c in columns) + f" FROM {table}"))
    conn.execute(text(f"DROP TABLE {table}"))
    conn.execute(text(f"ALTER TABLE {copy} RENAME TO {table}"))
    for index in indexes:
        conn.execute(text(index))


upgrade = sql_step("0024_binary_hashes.sql", then=_hashes_as_bytes)
