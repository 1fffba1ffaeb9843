"""From validated, normalised source rows (strings in the forms the GX suites
check) to the typed columns of the warehouse's version tables."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from decimal import Decimal

from wageguard.identity.investment_code import normalise_investment_code
from wageguard.identity.person_id import mask_person_id
from wageguard.tables import ALL, SourceTable


def fen(value: str | None) -> int | None:
    """Yuan with two decimals to integer fen, exactly."""
    if value is None:
        return None
    whole, _, cents = value.partition(".")
    if whole.isdecimal() and len(cents) == 2 and cents.isdecimal():  # as validated: integers do
        return int(whole) * 100 + int(cents)
    return int(Decimal(value) * 100)


def day(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def count(value: str | None) -> int | None:
    return None if value is None else int(value)


def flag(value) -> int:
    return 1 if value in (True, "true", "True", 1, "1") else 0


def government(value: str | None) -> int:
    return 1 if value == "是" else 0


# How each kind of column (tables.py) is stored; a kind not listed is kept as
# normalisation left it (text in the form the suites check).
_STORED = {"money": fen, "money_wan": fen, "date": day, "count": count, "flag": flag,
           "person_id": mask_person_id, "yes_no": government}
# Columns the warehouse adds to a dev-reform row: its investment code in the one
# shape projects link on (the code as typed stays beside it).
_DERIVED = {"code_normalised": ("investment_code", normalise_investment_code)}


def _conversions(table: SourceTable) -> dict[str, tuple[str, Callable | None]]:
    """{version-table column: (source column, conversion or None)}."""
    out = {c.stored_as: (c.name, _STORED.get(c.kind)) for c in table.fields if c.kept}
    if table.system == "devreform":
        out |= _DERIVED
    return out


CONVERSIONS = {t.name: _conversions(t) for t in ALL}
VERSION_TABLE = {t.name: t.version_table for t in ALL}


# Yuan spelt as validated, digits, a point and two decimals: without the point, fen.
_YUAN = re.compile(r"\d+\.\d\d", re.ASCII)
_WITHOUT_POINT = operator.methodcaller("replace", ".", "")


def _converted(values: list, convert) -> list:
    """`convert` applied to a column, once per distinct value: dates and codes
    repeat across a province, and the conversions are pure. Amounts mostly do
    not repeat; those spelt as validated become fen in compiled code."""
    distinct = set(values)
    done: dict = {}
    if convert is fen:
        yuan = list(filter(_YUAN.fullmatch, distinct - {None}))
        done = dict(zip(yuan, map(int, map(_WITHOUT_POINT, yuan)), strict=True))
    rest = distinct.difference(done)
    done.update(zip(rest, map(convert, rest), strict=True))
    return list(map(done.__getitem__, values))


def typed_columns(table: str, columns: dict[str, list], target_columns: list[str],
                  identity: tuple[str, ...], tombstones: list[bool]) -> list[list]:
    """The target columns, each a list, from the normalised source `columns`.

    A tombstone voids its record: only its identity (key, updated_at, deleted)
    was checked, so only that is typed; the rest of what it carried stays in
    its landed payload."""
    conversions = CONVERSIONS[table]
    voided = [i for i, dead in enumerate(tombstones) if dead]
    out = []
    for column in target_columns:
        source, convert = conversions.get(column, (column, None))
        values = columns[source]
        if voided and column not in identity:
            values = list(values)
            for i in voided:
                values[i] = None
        out.append(values if convert is None else _converted(values, convert))
    return out

