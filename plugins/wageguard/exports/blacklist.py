"""The joint-punishment list for credit agencies: every `dishonest` entry
(organisations and persons) that applies on D, the change since the previous
export, and a manifest with row counts and checksums."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path

from sqlalchemy import Connection, text

from wageguard.exports.files import sha256_of, write_csv, write_jsonl
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
CHANGES_HEADER = ["change", "entry_id", "reason"]

_APPLYING = """
SELECT entry_id, subject_type, subject_name, credit_code, person_id_masked, list_type,
       cause, decision_no, listing_authority, listed_on, expires_on
FROM night_list_entry
WHERE run_date = :d AND list_type = 'dishonest'
  AND listed_on <= :d AND expires_on > :d
  AND (removed_on IS NULL OR removed_on > :d)
ORDER BY entry_id
"""


def _text(value) -> str | None:
    return None if value is None else str(value)


def _row_hash(row: list) -> str:
    return hashlib.sha256(json.dumps(row, ensure_ascii=False).encode()).hexdigest()


def _removal_reason(conn: Connection, run_date: dt.date, entry_id: str) -> str:
    """Why an entry exported last time is not exported on D, from what D knows."""
    now = conn.execute(
        text("SELECT list_type, expires_on, removed_on, removal_reason FROM night_list_entry "
             "WHERE run_date = :d AND entry_id = :e"),
        {"d": run_date, "e": entry_id},
    ).first()
    if now is None:
        return "deleted at the source"
    if now.removed_on is not None and str(now.removed_on) <= run_date.isoformat():
        return f"removed on {now.removed_on}: {now.removal_reason or 'no reason given'}"
    if now.expires_on is not None and str(now.expires_on) <= run_date.isoformat():
        return f"expired on {now.expires_on}"
    if now.list_type != "dishonest":
        return f"now a {now.list_type} entry, not on the joint-punishment list"
    return "no longer applies"


def export_blacklist(conn: Connection, folder: Path, run_date: dt.date,
                     signing_key_pem: str | None = None) -> dict:
    """`signing_key_pem` (else the environment, see exports/signing.py) signs
    the manifest; without any key the export goes out unsigned and says so."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [[_text(v) for v in r] for r in conn.execute(text(_APPLYING), {"d": run_date})]
    hashes = {row[0]: _row_hash(row) for row in rows}

    previous = conn.execute(
        text("SELECT MAX(run_date) FROM blacklist_export WHERE run_date < :d"), {"d": run_date}
    ).scalar()
    before = {}
    if previous is not None:
        before = {
            r.entry_id: r.row_hash
            for r in conn.execute(
                text("SELECT entry_id, row_hash FROM blacklist_export WHERE run_date = :d"),
                {"d": previous},
            )
        }
    changes = []
    for entry_id in sorted(set(hashes) | set(before)):
        if entry_id not in before:
            changes.append(["added", entry_id, "now on the list" if previous else "first export"])
        elif entry_id not in hashes:
            changes.append(["removed", entry_id, _removal_reason(conn, run_date, entry_id)])
        elif hashes[entry_id] != before[entry_id]:
            changes.append(["changed", entry_id, "listing details changed at the source"])

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

    conn.execute(text("DELETE FROM blacklist_export WHERE run_date = :d"), {"d": run_date})
    insert = text("INSERT INTO blacklist_export (run_date, entry_id, row_hash) VALUES (:d, :e, :h)")
    execute_many(conn, insert, [{"d": run_date, "e": e, "h": h} for e, h in hashes.items()])
    return {"entries": len(rows), "added": sum(c[0] == "added" for c in changes),
            "removed": sum(c[0] == "removed" for c in changes),
            "changed": sum(c[0] == "changed" for c in changes),
            "signed": manifest["signature"] is not None}
