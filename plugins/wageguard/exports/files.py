"""Writing CSV and JSON Lines the way our consumers open them, and hashing them."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path


def write_csv(path: Path, header: list[str], rows: list[list], *, bom: bool = False) -> int:
    """UTF-8 (with BOM where Excel must open it), CRLF per RFC 4180."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return len(rows)


def write_jsonl(path: Path, header: list[str], rows: list[list]) -> int:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(dict(zip(header, row)), ensure_ascii=False) + "\n")
    return len(rows)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
