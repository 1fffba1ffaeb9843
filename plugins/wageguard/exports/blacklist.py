"""The joint-punishment list for credit agencies: every `dishonest` entry
(organisations and persons) that applies on D, the change since the previous
export, and a manifest with row counts and checksums. What applies and what
changed are the marts sql/marts/blacklist_entries.sql and
blacklist_changes.sql; each export is recorded (blacklist_export) for the next
one to compare with."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path

from sqlalchemy import Connection, RowMapping, text

from wageguard.exports.files import sha256_of, write_csv, write_jsonl
from wageguard.exports.marts import select
from wageguard.exports.signing import (
    SigningKeyMissing,
    load_private_key,
    sign_file,
    sign_manifest,
)
from wageguard.warehouse.sqlfiles import execute_many

log = logging.getLogger(__name__)

HEADER = [
    "entry_id", "subject_type", "subject_name", "credit_code", "person_id_masked",
    "list_type", "cause", "decision_no", "listing_authority", "listed_on", "expires_on",
]
CHANGES_HEADER = ["change", "entry_id", "reason", "effective_on",
                  *(f"previous_{column}" for column in HEADER[1:])]


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
                                for entry, row in zip(entries, rows)])


def export_blacklist(conn: Connection, folder: Path, run_date: dt.date,
                     signing_key_pem: str | None = None) -> dict:
    """`signing_key_pem` (else the environment, see exports/signing.py) signs
    the manifest; without any key the export goes out unsigned and says so."""
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
    files = {
        "entries.csv": write_csv(folder / "entries.csv", HEADER, rows, bom=True,
                                 for_spreadsheets=True),
        "entries.jsonl": write_jsonl(folder / "entries.jsonl", HEADER, rows),
        "changes.csv": write_csv(folder / "changes.csv", CHANGES_HEADER, changes, bom=True,
                                 for_spreadsheets=True),
    }
    manifest = {
        "run_date": run_date.isoformat(),
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
    return {"entries": len(rows), "added": sum(c[0] == "added" for c in changes),
            "removed": sum(c[0] == "removed" for c in changes),
            "changed": sum(c[0] == "changed" for c in changes),
            "signed": manifest["signature"] is not None}
