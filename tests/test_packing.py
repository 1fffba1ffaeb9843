"""Payloads kept packed, on both backends: each reads back as the exact
canonical JSON its hash was taken over, a table's dictionary is trained once
it has enough payloads to learn from, and a warehouse whose payloads were kept
as text has them packed by its upgrade."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import text
from wageguard.landing.packing import TRAIN_FROM, unpack
from wageguard.landing.store import canonical_bytes, land
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.migrate import migrate

D = dt.date(2026, 11, 21)
DISTRICTS = ("150102", "150103", "150104", "150105", "150121")


def account(n: int) -> dict:
    """Records as varied as a source's: names, numbers and dates differ."""
    return {
        "account_id": f"WA-{n:06d}", "project_id": f"ZJ{DISTRICTS[n % 5]}-2025-{n:05d}",
        "bank_name": ("中国建设银行", "中国工商银行", "内蒙古银行")[n % 3] + f"第{n % 17}支行",
        "account_no": f"6217{n * 7919 % 10**12:012d}", "opened_on": f"2025-{n % 12 + 1:02d}-"
        f"{n % 28 + 1:02d}", "filed_on": None if n % 9 == 0 else "2025-03-01",
        "closed_on": None, "updated_at": f"2026-11-{n % 20 + 1:02d}T09:00:00+08:00",
        "deleted": False,
    }


def _land(engine, records: list[dict], table: str = "wage_accounts") -> str:
    with engine.begin() as conn:
        return land(conn, run_date=D, source_table=table, source="test",
                    records=records).batch_id


def _held(engine) -> dict[bytes, bytes]:
    with engine.connect() as conn:
        return {row.payload_hash: row.packed for row in conn.execute(
            text("SELECT payload_hash, packed FROM payload"))}


def _read_back(engine, held: dict[bytes, bytes]) -> dict[bytes, bytes]:
    with engine.connect() as conn:
        return {digest: unpack(conn, packed).encode("utf-8") for digest, packed in held.items()}


def test_a_tables_payloads_are_packed_with_a_dictionary_and_read_back_exactly(engine):
    records = [account(n) for n in range(TRAIN_FROM + 100)]
    batch_id = _land(engine, records)
    with engine.connect() as conn:
        dictionaries = conn.execute(text(
            "SELECT source_table, trained_on FROM payload_dictionary")).all()
    assert [tuple(row) for row in dictionaries] == [("wage_accounts", batch_id)]
    held = _held(engine)
    payloads = {hashlib.sha256(p).digest(): p for p in map(canonical_bytes, records)}
    assert _read_back(engine, held) == payloads
    packed, plain = sum(map(len, held.values())), sum(map(len, payloads.values()))
    assert packed < 0.45 * plain, f"packed {packed:,} bytes of {plain:,}"


def test_a_few_payloads_are_packed_without_one_until_a_pull_brings_enough(engine):
    few = [account(n) for n in range(3)]
    _land(engine, few)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM payload_dictionary")).scalar() == 0
    many = [account(n) for n in range(1000, 1000 + TRAIN_FROM)]
    later = _land(engine, many)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT trained_on FROM payload_dictionary")).scalar() == later
    payloads = {hashlib.sha256(p).digest(): p for p in map(canonical_bytes, few + many)}
    assert _read_back(engine, _held(engine)) == payloads


def test_an_upgrade_packs_the_payloads_held_as_text(warehouse_url):
    engine = make_engine(warehouse_url)
    migrate(engine, "0020")
    pulls = {"b1": ("wage_accounts", [account(n) for n in range(TRAIN_FROM)]),
             "b2": ("wage_deposits", [account(n) | {"form": "cash"} for n in range(TRAIN_FROM)])}
    orphan = canonical_bytes({"entry_id": "gone"})
    payloads = {hashlib.sha256(orphan).hexdigest(): orphan}
    with engine.begin() as conn:
        for batch_id, (table, records) in pulls.items():
            conn.execute(text(
                "INSERT INTO load_batch (batch_id, run_date, source_table, source, pulled_at, "
                "pulled, status) VALUES (:b, :d, :t, 'test', 't', :n, 'loaded')"),
                {"b": batch_id, "d": D, "t": table, "n": len(records)})
            held = {hashlib.sha256(p).hexdigest(): p for p in map(canonical_bytes, records)}
            conn.execute(text(
                "INSERT INTO payload (payload_hash, batch_id, ordinal, payload) "
                "VALUES (:h, :b, :o, :p)"),
                [{"h": digest, "b": batch_id, "o": n, "p": payload.decode("utf-8")}
                 for n, (digest, payload) in enumerate(held.items())])
            payloads |= held
        conn.execute(text(
            "INSERT INTO payload (payload_hash, batch_id, ordinal, payload) "
            "VALUES (:h, 'a pull no longer held', 0, :p)"),
            {"h": hashlib.sha256(orphan).hexdigest(), "p": orphan.decode("utf-8")})
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT source_table, trained_on FROM payload_dictionary "
                                 "ORDER BY source_table")).all() == [
            ("wage_accounts", "b1"), ("wage_deposits", "b2")]
        if engine.dialect.name == "sqlite":  # the table is its key's index, not beside it
            assert conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'payload'")
                                ).scalar().endswith("WITHOUT ROWID")
    # Held as hex before, as their bytes since schema 0024.
    assert _read_back(engine, _held(engine)) == {bytes.fromhex(digest): payload
                                                  for digest, payload in payloads.items()}
    engine.dispose()
