"""The province one night later, for an incremental night: a share of the records
each incremental feed serves get a new version during the day after D, and the
dev-reform snapshot changes the same share of its rows; nothing else moves.
Applied to its own result it gives the nights after that, one day at a time,
each with changes of its own; a share of 0 gives the same records a day later.

Real-name months are not touched: the month the nightly run pulls is closed, and
closed months are final."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from .cases import record_key
from .records import stamp, wan_yuan, yuan
from .world import World

_INCREMENTAL = ("projects", "wage_accounts", "wage_deposits", "enterprises", "list_entries")
_SNAPSHOT = ("investment_projects", "fund_disbursements")


def the_night_after(world: World, share: float = 0.01) -> World:
    """`world` as the sources hold it on the night after its run date, with
    `share` of the records of every incremental table and of the dev-reform
    rows changed during that day. The same world and share give the same changes."""
    rng = random.Random(f"{world.seed}:after:{world.run_date}:{share}")
    day = world.run_date + timedelta(days=1)
    tables: dict[str, list[dict]] = {}
    for table in _INCREMENTAL:
        rows = world.rows(table)
        latest = _latest_live(table, rows)
        chosen = rng.sample(latest, round(share * len(latest)))
        tables[table] = rows + [
            _changed(table, record, stamp(day, 8 * 3600 + rng.randrange(11 * 3600)), day)
            for record in chosen
        ]
    for table in _SNAPSHOT:
        rows = list(world.rows(table))
        for i in rng.sample(range(len(rows)), round(share * len(rows))):
            rows[i] = _changed_row(table, rows[i])
        tables[table] = rows
    after = dataclasses.replace(world, run_date=day)
    for table, rows in tables.items():
        setattr(after, table, rows)
    return after


def changed_records(before: World, after: World) -> list[dict]:
    """The records `after` (the night after `before`) serves that `before` did
    not: the new versions of the incremental tables and the changed rows of
    the dev-reform snapshot."""
    changed = []
    for table in _INCREMENTAL:
        changed += after.rows(table)[len(before.rows(table)):]
    for table in _SNAPSHOT:
        changed += [row for row, was in zip(after.rows(table), before.rows(table), strict=True)
                    if row != was]
    return changed


def _latest_live(table: str, rows: list[dict]) -> list[dict]:
    """The current version of each record that still exists and is well formed
    enough to be changed by its office."""
    latest: dict[object, dict] = {}
    for record in rows:
        try:
            key = record_key(table, record)
        except (KeyError, TypeError):
            continue
        held = latest.get(key)
        if held is None or str(record.get("updated_at")) > str(held.get("updated_at")):
            latest[key] = record
    return [r for r in latest.values() if r.get("deleted") is False
            and isinstance(r.get("updated_at"), str) and r["updated_at"].endswith("+08:00")]


def _changed(table: str, record: dict, updated_at: str, day: date) -> dict:
    """A new version of `record` as its office would enter it on `day`."""
    change: dict = {"updated_at": updated_at}
    if table == "projects" and _is_date(record.get("planned_completion_on")):
        planned = date.fromisoformat(record["planned_completion_on"])
        change["planned_completion_on"] = (planned + timedelta(days=30)).isoformat()
    elif table == "wage_accounts" and record.get("filed_on") is None:
        change["filed_on"] = day.isoformat()
    elif table == "wage_deposits" and (fen := _fen(record.get("amount"), 100)) is not None:
        change["amount"] = yuan(fen + fen // 10)
    return {**record, **change}


def _changed_row(table: str, row: dict) -> dict:
    """The row as the next day's snapshot has it: a project renamed, or a
    month's disbursement corrected upwards."""
    if table == "investment_projects":
        return {**row, "项目名称": f"{row.get('项目名称') or ''}（调整）"}
    fen = _fen(row.get("实际拨付金额"), 10**6)
    return row if fen is None else {**row, "实际拨付金额": wan_yuan(fen + fen // 10 + 1)}


def _is_date(value: object) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _fen(amount: object, fen_per_unit: int) -> int | None:
    try:
        fen = Decimal(str(amount)) * fen_per_unit
    except InvalidOperation:
        return None
    return int(fen) if fen == fen.to_integral_value() and fen >= 0 else None
