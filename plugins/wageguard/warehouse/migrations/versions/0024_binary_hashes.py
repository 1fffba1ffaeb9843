"""Payload hashes kept as their 32 bytes (sql/schema/0024_binary_hashes.sql says why)."""

import logging

from sqlalchemy import Connection, inspect, text
from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0024", "0023"
log = logging.getLogger(__name__)


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
        if conn.dialect.name == "sqlite":
            conn.execute(text(f"UPDATE {table} SET payload_hash = wageguard_unhex(payload_hash) "
                              "WHERE typeof(payload_hash) = 'text'"))
        else:
            conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN payload_hash TYPE BYTEA "
                              "USING decode(payload_hash, 'hex')"))
        log.info("payload hashes kept as bytes: %s (%d of %d tables)", table, done, len(tables))


upgrade = sql_step("0024_binary_hashes.sql", then=_hashes_as_bytes)
