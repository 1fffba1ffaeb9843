"""What a revision does: run one sql/schema file on the migration's connection."""

from __future__ import annotations

from collections.abc import Callable

from alembic import op

from wageguard.db.sqlfiles import run_file


def sql_step(name: str) -> Callable[[], None]:
    def upgrade() -> None:
        run_file(op.get_bind(), f"schema/{name}")

    upgrade.__doc__ = f"Applies sql/schema/{name}."
    return upgrade
