"""Payloads packed with a zstd dictionary per source table."""

import logging

from sqlalchemy import Connection, text
from wageguard.db.bulk import write_rows
from wageguard.landing.packing import Packer
from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0021", "0020"
log = logging.getLogger(__name__)

# Payloads read, packed and written at a time; progress is logged every _PROGRESS.
_PAGE = 5000
_PROGRESS = 100_000


def _pack_held_payloads(conn: Connection) -> None:
    """Every payload held as text, packed into payload_packed, which then
    takes payload's place. Table by table, so that each table's dictionary is
    trained on its own payloads; a payload whose pull is no longer held is
    packed without one."""
    held = conn.execute(text("SELECT COUNT(*) FROM payload")).scalar_one()
    tables = [t for (t,) in conn.execute(text("SELECT DISTINCT source_table FROM load_batch "
                                              "ORDER BY source_table"))]
    packed_so_far = 0
    for table in [*tables, None]:
        of_table = ("b.source_table = :t" if table is not None else "b.batch_id IS NULL")
        packer, after = None, ""
        while rows := conn.execute(text(
                "SELECT p.payload_hash, p.batch_id, p.ordinal, p.payload FROM payload p "
                "LEFT JOIN load_batch b ON b.batch_id = p.batch_id "
                f"WHERE {of_table} AND p.payload_hash > :after "
                "ORDER BY p.payload_hash LIMIT :n"), {"t": table, "after": after, "n": _PAGE}
                ).all():
            packer = packer or Packer(conn, table, rows[0].batch_id)
            packed = packer.pack([row.payload.encode("utf-8") for row in rows])
            write_rows(conn, "payload_packed", ("payload_hash", "batch_id", "ordinal", "packed"),
                       ((row.payload_hash, row.batch_id, row.ordinal, body)
                        for row, body in zip(rows, packed, strict=True)), may_exist=False)
            after = rows[-1].payload_hash
            packed_so_far += len(rows)
            if packed_so_far % _PROGRESS < _PAGE or packed_so_far == held:
                log.info("packing the payloads held: %d of %d", packed_so_far, held)
    conn.execute(text("DROP TABLE payload"))
    conn.execute(text("ALTER TABLE payload_packed RENAME TO payload"))


upgrade = sql_step("0021_packed_payloads.sql", then=_pack_held_payloads)
