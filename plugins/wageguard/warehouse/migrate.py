"""Brings a warehouse's schema up to date with Alembic: each revision in
warehouse/migrations/versions applies one sql/schema file, in order, all in one
transaction (DDL is transactional on SQLite and PostgreSQL alike), so an upgrade
that fails leaves the warehouse at the version it had. `alembic_version`
records where a warehouse stands.

Migrations take the warehouse's turn (lock.take_turn, and on SQLite a lock
file beside the database): two first runs upgrade one after the other, the
second finding the schema made. An upgrade waits while a night is between
merge and publish or a delivery is sending, so no run sees its tables change
under it; a warehouse already up to date waits for nothing."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from wageguard.warehouse.lock import Hold, any_standing, first_connection_turn, when_free

log = logging.getLogger(__name__)

SCRIPTS = Path(__file__).with_name("migrations")
# Before Alembic, warehouses recorded their version here, one row per file.
LEGACY_VERSION_TABLE = "schema_version"


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = conn
    return config


def _adopt_legacy(conn: Connection) -> None:
    """A warehouse made by the earlier ordered-SQL runner is stamped at the
    revision it reached, so the upgrade applies only what it lacks."""
    tables = set(inspect(conn).get_table_names())
    if LEGACY_VERSION_TABLE not in tables or "alembic_version" in tables:
        return
    reached = conn.execute(text(f"SELECT MAX(version) FROM {LEGACY_VERSION_TABLE}")).scalar()
    if reached is None:
        return
    revision = f"{reached:04d}"
    log.info("warehouse made before Alembic, at schema version %s: stamping it", revision)
    command.stamp(_config(conn), revision)
    conn.execute(text(f"DROP TABLE {LEGACY_VERSION_TABLE}"))


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> int:
    """Upgrades the warehouse to `revision` (the newest by default); returns
    the schema version it is at."""

    def upgrade(conn: Connection) -> int | Hold:
        _adopt_legacy(conn)
        config = _config(conn)
        if current_revision(conn) != ScriptDirectory.from_config(config).get_revision(
                revision).revision:
            standing = any_standing(conn)
            if standing:
                return standing
            command.upgrade(config, revision)
        reached = current_revision(conn)
        assert reached is not None, "an upgraded warehouse stands at a revision"
        return int(reached)

    waiter = "the warehouse's schema upgrade"
    with first_connection_turn(engine, waiter):
        return when_free(engine, waiter, upgrade)
