"""Running the marts of sql/marts/: what the night's files show, one query each,
documented at its top. The files render their rows and decide nothing.

A mart may read another, as dbt's ref() does: `{{ ref('open_flags') }}` stands
for the query of sql/marts/open_flags.sql as a subquery, so what a mart
computes is written once, whichever marts build on it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sqlalchemy import Connection, RowMapping, text

from wageguard.db.bulk import stream_rows
from wageguard.db.sqlfiles import read_sql, statements, used_params

_REF = re.compile(r"\{\{\s*ref\('(\w+)'\)\s*\}\}")


def mart_sql(name: str) -> str:
    """The query of sql/marts/<name>.sql, the marts it reads written in."""
    (sql,) = statements(read_sql(f"marts/{name}.sql"))
    return _REF.sub(lambda ref: f"(\n{mart_sql(ref.group(1))}\n)", sql)


def stream(conn: Connection, name: str, params: dict) -> Iterator[RowMapping]:
    """The rows of a mart as they are read; `params` may hold more than it binds."""
    sql = mart_sql(name)
    return iter(stream_rows(conn, text(sql), used_params(sql, params)).mappings())


def select(conn: Connection, name: str, params: dict) -> list[RowMapping]:
    """The rows of a mart, all of them."""
    return list(stream(conn, name, params))
