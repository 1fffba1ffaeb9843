"""Running the marts of sql/marts/: what the night's files show, one query each,
documented at its top. The files render their rows and decide nothing.

A mart may read another, as dbt's ref() does: `{{ ref('open_flags') }}` stands
for the query of sql/marts/open_flags.sql as a subquery, so what a mart
computes is written once, whichever marts build on it. A mart several others
build on can be evaluated once for a while (`materialised`), as dbt's table
materialisation does, so that each reading of it does not compute it again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, RowMapping, text

from wageguard.db.bulk import stream_rows
from wageguard.db.sqlfiles import read_sql, statements, used_params

_REF = re.compile(r"\{\{\s*ref\('(\w+)'\)\s*\}\}")
# A mart's own order: its last ORDER BY, unless that one sits in a window.
_LAST_ORDER = re.compile(r"\bORDER BY\b(?!.*\bORDER BY\b)(.*)\Z", re.IGNORECASE | re.DOTALL)
# conn.info's key for the marts materialised on a connection: name -> (table, params).
_HELD = "wageguard.materialised_marts"


def _own_sql(name: str) -> str:
    (sql,) = statements(read_sql(f"marts/{name}.sql"))
    return sql


def mart_sql(name: str, held: dict[str, tuple[str, dict]] | None = None) -> str:
    """The query of sql/marts/<name>.sql, the marts it reads written in, or
    read from their tables where `held` names them materialised."""
    if held and name in held:
        order = _LAST_ORDER.search(_own_sql(name))
        tail = order.group(1) if order and (
            order.group(1).count("(") == order.group(1).count(")")) else None
        return f"SELECT * FROM {held[name][0]}" + (f" ORDER BY{tail}" if tail else "")
    return _REF.sub(lambda ref: f"(\n{mart_sql(ref.group(1), held)}\n)", _own_sql(name))


def _reads(name: str) -> set[str]:
    """The mart and every mart it reads, at any depth."""
    return {name}.union(*(_reads(ref) for ref in _REF.findall(_own_sql(name))))


def _held(conn: Connection, name: str, params: dict) -> dict[str, tuple[str, dict]]:
    """The marts materialised on `conn`; each that `name` reads must be asked
    with the parameters it was materialised with (else a ValueError)."""
    held: dict[str, tuple[str, dict]] = conn.info.get(_HELD, {})
    for mart in _reads(name) & held.keys():
        bound = held[mart][1]
        if used_params(mart_sql(mart), params) != bound:
            raise ValueError(f"mart {mart} is materialised with {bound}, not with the "
                             f"parameters asked: {used_params(mart_sql(mart), params)}")
    return held


@contextmanager
def materialised(conn: Connection, name: str, params: dict) -> Iterator[None]:
    """Evaluates mart `name` with `params` once, into a temporary table that
    the mart itself and the marts reading it read instead, until the block
    ends. On a failure the transaction's rollback takes the table with it."""
    sql = mart_sql(name)
    table, bound = f"materialised_{name}", used_params(sql, params)
    conn.execute(text(f"CREATE TEMPORARY TABLE {table} AS {sql}"), bound)
    held = conn.info.setdefault(_HELD, {})
    held[name] = (table, bound)
    try:
        yield
    finally:
        del held[name]
    conn.execute(text(f"DROP TABLE {table}"))


def stream(conn: Connection, name: str, params: dict) -> Iterator[RowMapping]:
    """The rows of a mart as they are read; `params` may hold more than it binds."""
    sql = mart_sql(name, _held(conn, name, params))
    return iter(stream_rows(conn, text(sql), used_params(sql, params)).mappings())


def select(conn: Connection, name: str, params: dict) -> list[RowMapping]:
    """The rows of a mart, all of them."""
    return list(stream(conn, name, params))
