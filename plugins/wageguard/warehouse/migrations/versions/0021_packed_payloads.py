"""Payloads packed with a zstd dictionary per source table."""

from itertools import groupby

from sqlalchemy import Connection, text
from wageguard.db.bulk import write_rows
from wageguard.landing.packing import Packer
from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0021", "0020"

# Payloads read, packed and written at a time.
_PAGE = 5000


def _pack_held_payloads(conn: Connection) -> None:
    """Every payload held as text, packed into payload_packed, which then
    takes payload's place."""
    packers: dict[str | None, Packer] = {}
    after = ""
    while rows := conn.execute(text(
            "SELECT b.source_table, p.payload_hash, p.batch_id, p.ordinal, p.payload "
            "FROM payload p LEFT JOIN load_batch b ON b.batch_id = p.batch_id "
            "WHERE p.payload_hash > :after ORDER BY p.payload_hash LIMIT :n"),
            {"after": after, "n": _PAGE}).all():
        by_table = sorted(rows, key=lambda row: row.source_table or "")
        for table, group in groupby(by_table, key=lambda row: row.source_table):
            held = list(group)
            packer = packers.setdefault(table, Packer(conn, table, held[0].batch_id))
            packed = packer.pack([row.payload.encode("utf-8") for row in held])
            write_rows(conn, "payload_packed", ("payload_hash", "batch_id", "ordinal", "packed"),
                       ((row.payload_hash, row.batch_id, row.ordinal, body)
                        for row, body in zip(held, packed, strict=True)), may_exist=False)
        after = rows[-1].payload_hash
    conn.execute(text("DROP TABLE payload"))
    conn.execute(text("ALTER TABLE payload_packed RENAME TO payload"))


upgrade = sql_step("0021_packed_payloads.sql", then=_pack_held_payloads)
