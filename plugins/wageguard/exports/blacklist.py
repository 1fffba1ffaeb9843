"""The joint-punishment list for credit agencies: every `dishonest` entry
(organisations and persons) that applies on D, the change since the previous
export, and a manifest with row counts and checksums. What applies and what
changed are the marts sql/marts/blacklist_entries.sql and
blacklist_changes.sql; each export is recorded (blacklist_export) for the next
one to compare with. Beside the data, schema.json says what every field means
(exports/blacklist_schema.py), and the manifest names the publisher, the
schema version and the moment of the data (sql/marts/blacklist_as_of.sql).

Everything in the export follows from what night D knows (and from the
deployment's publisher name and key), so re-running a night reproduces it byte
for byte."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from pathlib import Path

from sqlalchemy import Connection, RowMapping, text

from wageguard.db.sqlfiles import execute_many
from wageguard.exports.blacklist_schema import (
    CHANGES,
    CHANGES_HEADER,
    HEADER,
    SCHEMA_FILE,
    SCHEMA_VERSION,
    write_schema,
)
from wageguard.exports.files import sha256_of, write_csv, write_jsonl
from wageguard.exports.marts import select
from wageguard.exports.signing import (
    SigningKeyMissing,
    load_private_key,
    sign_file,
    sign_manifest,
)
from wageguard.landing.store import now_text
from wageguard.tables import LIST_ENTRIES

log = logging.getLogger(__name__)

PUBLISHER_ENV = "WAGEGUARD_BLACKLIST_PUBLISHER"
DEFAULT_PUBLISHER = "劳动保障监察机构"


def publisher() -> str:
    """The authority the manifest names as publishing the feed."""
    return os.environ.get(PUBLISHER_ENV, "").strip() or DEFAULT_PUBLISHER


def _text(value) -> str | None:
    return None if value is None else str(value)


def _row_hash(row: list) -> str:
    return hashlib.sha256(json.dumps(row, ensure_ascii=False).encode()).hexdigest()


def _record_export(conn: Connection, run_date: dt.date, entries: list[RowMapping],
                   rows: list[list]) -> None:
    """Night D's export as it goes out, each row with the hash of its text:
    the next export's changes are against it."""
    conn.execute(text("DELETE FROM blacklist_export WHERE run_date = :run_date"),
                 {"run_date": run_date})
    insert = text(f"INSERT INTO blacklist_export (run_date, row_hash, {', '.join(HEADER)}) "
                  f"VALUES (:run_date, :row_hash, {', '.join(':' + c for c in HEADER)})")
    execute_many(conn, insert, [{**entry, "run_date": run_date, "row_hash": _row_hash(row)}
                                for entry, row in zip(entries, rows, strict=True)])


def _generated_at(conn: Connection, knowledge_cutoff: str) -> str | None:
    found = select(conn, "blacklist_as_of",
                   {"source_table": LIST_ENTRIES.name, "cutoff": knowledge_cutoff})
    return found[0]["generated_at"] if found else None


def export_blacklist(conn: Connection, folder: Path, run_date: dt.date,
                     signing_key_pem: str | None = None, *,
                     knowledge_cutoff: str | None = None) -> dict:
    """`signing_key_pem` (else the environment, see exports/signing.py) signs
    the manifest; without any key the export goes out unsigned and says so.
    `knowledge_cutoff`: night D's (warehouse/night.py), which fixes the
    manifest's generated_at; by default now, as for a night run for the first
    time."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = select(conn, "blacklist_entries", {"run_date": run_date})
    previous = conn.execute(
        text("SELECT MAX(run_date) FROM blacklist_export WHERE run_date < :d"), {"d": run_date}
    ).scalar()
    rows = [[_text(v) for v in entry.values()] for entry in entries]
    _record_export(conn, run_date, entries, rows)
    changes = [[_text(v) for v in change.values()] for change in select(
        conn, "blacklist_changes", {"run_date": run_date, "previous_export": previous})]

    # The CSVs are opened in spreadsheets, so text that reads as a formula is
    # led by '; the JSON Lines keep every value exactly as listed, for the
    # agencies that check them against their own records.
    files: dict[str, int | None] = {
        "entries.csv": write_csv(folder / "entries.csv", HEADER, rows, bom=True,
                                 for_spreadsheets=True),
        "entries.jsonl": write_jsonl(folder / "entries.jsonl", HEADER, rows),
        "changes.csv": write_csv(folder / "changes.csv", CHANGES_HEADER, changes, bom=True,
                                 for_spreadsheets=True),
        SCHEMA_FILE: None,  # what the fields mean, not a table
    }
    write_schema(folder / SCHEMA_FILE)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "publisher": publisher(),
        "run_date": run_date.isoformat(),
        "generated_at": _generated_at(conn, knowledge_cutoff or now_text()),
        "previous_export_date": _text(previous),
        "files": [
            {"name": name, "rows": count, "sha256": sha256_of(folder / name)}
            for name, count in files.items()
        ],
    }
    try:
        key = load_private_key(signing_key_pem)
        manifest = sign_manifest(manifest, key)
    except SigningKeyMissing as missing:
        log.error("blacklist manifest NOT signed: %s", missing)
        key, manifest["signature"] = None, None
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    if key is not None:  # verifiable with stock tools too (exports/signing.py)
        sign_file(folder / "manifest.json", key)
    return {"entries": len(rows),
            **{change: sum(c[0] == change for c in changes) for change in CHANGES},
            "signed": manifest["signature"] is not None}
