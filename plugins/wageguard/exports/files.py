"""Writing CSV and JSON Lines the way our consumers open them, and hashing them."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

# A spreadsheet opening a CSV runs a cell that starts with =, +, - or @ as a
# formula, and some skip a leading TAB or CR to find one (OWASP, CSV
# injection). Names and causes from the sources may start with any of them.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_text(value):
    """`value`, with a leading ' when it is text a spreadsheet would run: the
    quote makes it a label, shown as typed. Numbers are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def write_csv(path: Path, header: list[str], rows: Iterable[Sequence], *, bom: bool = False,
              for_spreadsheets: bool = False) -> int:
    """UTF-8 (with BOM where Excel must open it), CRLF per RFC 4180; returns
    the rows written. `rows` may stream: a province's file is never held whole.
    `for_spreadsheets`: every text cell goes through _spreadsheet_text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cell = _spreadsheet_text if for_spreadsheets else (lambda v: v)
    written = 0
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else cell(v) for v in row])
            written += 1
    return written


def write_jsonl(path: Path, header: list[str], rows: list[list]) -> int:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False) + "\n")
    return len(rows)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
