"""Reading the SQL files under sql/ and running them with bound parameters."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, text

from wageguard.paths import sql_dir

_COMMENT = re.compile(r"--[^\n]*")
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# SQLite's alone: there a table keyed by text is otherwise kept twice, the
# table by rowid and its key's index. PostgreSQL always keeps a heap beside
# the key's index, so the clause is dropped there.
_WITHOUT_ROWID = re.compile(r"\)\s*WITHOUT ROWID\s*$", re.IGNORECASE)


@cache
def read_sql(relative: str) -> str:
    return (sql_dir() / relative).read_text(encoding="utf-8")


def statements(sql: str) -> list[str]:
    """Split a file into statements. Our SQL files put no ';' inside literals
    or comments, which keeps this split trivial and dialect-neutral."""
    body = _COMMENT.sub("", sql)
    return [s.strip() for s in body.split(";") if s.strip()]


def used_params(sql: str, params: dict) -> dict:
    """The parameters a statement names: SQLite's driver refuses unused ones."""
    return {name: params[name] for name in set(_PARAM.findall(sql)) if name in params}


def run_file(conn: Connection, relative: str, params: dict | None = None) -> None:
    for stmt in statements(read_sql(relative)):
        if conn.dialect.name != "sqlite":
            stmt = _WITHOUT_ROWID.sub(")", stmt)
        conn.execute(text(stmt), used_params(stmt, params or {}))


def files_in(folder: str) -> list[str]:
    """The .sql files of a sql/ sub-folder in name order, relative to sql/."""
    return sorted(
        str(p.relative_to(sql_dir())) for p in Path(sql_dir() / folder).glob("*.sql")
    )


def execute_many(conn: Connection, statement, rows: list[dict], chunk: int = 5000) -> None:
    """executemany in bounded chunks, so a province-sized insert holds a bounded
    parameter list in memory at a time."""
    for start in range(0, len(rows), chunk):
        conn.execute(statement, rows[start:start + chunk])
