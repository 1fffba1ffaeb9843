"""What a revision does: run one sql/schema file on the migration's connection,
and then, where SQL cannot do the rest, a Python step on the same connection."""

from __future__ import annotations

from collections.abc import Callable

from alembic import op
from sqlalchemy import Connection

from wageguard.db.sqlfiles import run_file


def sql_step(name: str, then: Callable[[Connection], None] | None = None
             ) -> Callable[[], None]:
    def upgrade() -> None:
        run_file(op.get_bind(), f"schema/{name}")
        if then is not None:
            then(op.get_bind())

    upgrade.__doc__ = f"Applies sql/schema/{name}."
    return upgrade
