"""The dev-reform exchange area (contracts/devreform-exchange.md): nightly bundles of
GB18030 CSVs with their manifest written last, in a folder, and that folder served over
plain HTTP without a listing."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import os
import re
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from wageguard.tables import DEVREFORM_HEADERS

from .serving import QuietHandler
from .world import World

ENCODING = "GB18030"
MANIFEST = "manifest.json"
_CONTENT_TYPES = {".csv": f"text/csv; charset={ENCODING}", ".json": "application/json"}


def default_days(run_date: date) -> dict[date, str]:
    """D-4, D-2 and D-1 complete, D-3 missing (a holiday), D still being copied."""
    return {
        run_date - timedelta(days=4): "complete",
        run_date - timedelta(days=2): "complete",
        run_date - timedelta(days=1): "complete",
        run_date: "incomplete",
    }


def write_exchange(
    world: World,
    root: Path,
    days: Iterable[date] | None = None,
    incomplete: Iterable[date] = (),
    corrupt: Iterable[date] = (),
) -> dict[date, str]:
    """Write a full snapshot of the world's dev-reform tables for each day; returns each
    day written with its state: complete, incomplete (no manifest yet) or corrupt (a
    data file cut short under a manifest describing the whole file).

    `days=None` writes the default calendar (`default_days`), plus any day named in
    `incomplete` or `corrupt`."""
    states = default_days(world.run_date) if days is None else dict.fromkeys(days, "complete")
    states.update(dict.fromkeys(incomplete, "incomplete"))
    states.update(dict.fromkeys(corrupt, "corrupt"))
    files = {
        f"{table}.csv": (_csv_bytes(world.rows(table), tuple(headers)), len(world.rows(table)))
        for table, headers in DEVREFORM_HEADERS.items()
    }
    for day, state in sorted(states.items()):
        _write_bundle(root / f"{day:%Y%m%d}", day, files, state)
    return states


def _csv_bytes(rows: list[dict], headers: tuple[str, ...]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(headers)
    # A row lacking its last headers is one the exporter cut short: write it short.
    writer.writerows([row[h] for h in headers if h in row] for row in rows)
    return text.getvalue().encode(ENCODING)


def _write_bundle(folder: Path, day: date, files: dict[str, tuple[bytes, int]], state: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # As the exporter does: the manifest goes first and comes back last, so a reader
    # never takes a bundle being rewritten for a complete one.
    (folder / MANIFEST).unlink(missing_ok=True)
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data[: len(data) // 2] if state == "corrupt" else data)
    if state == "incomplete":
        return
    manifest = {
        "export_date": day.isoformat(),
        "encoding": ENCODING,
        "files": [
            {"name": name, "rows": rows, "sha256": hashlib.sha256(data).hexdigest()}
            for name, (data, rows) in files.items()
        ],
    }
    staged = folder / f".{MANIFEST}.partial"
    staged.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(staged, folder / MANIFEST)


def exchange_handler(root: Path, basic_auth: tuple[str, str] | None = None) -> type[QuietHandler]:
    """Serves GET/HEAD `/<YYYYMMDD>/<file>` from `root`; anything else is 404."""
    expected = None
    if basic_auth:
        expected = "Basic " + base64.b64encode(":".join(basic_auth).encode()).decode()

    class ExchangeHandler(QuietHandler):
        def do_GET(self) -> None:
            self._serve(head_only=False)

        def do_HEAD(self) -> None:
            self._serve(head_only=True)

        def _serve(self, *, head_only: bool) -> None:
            given = self.headers.get("Authorization") or ""
            if expected and not hmac.compare_digest(given.encode(), expected.encode()):
                self.send(401, b"login required\n", "text/plain",
                          {"WWW-Authenticate": 'Basic realm="devreform exchange"'},
                          head_only=head_only)
                return
            file = _bundle_file(root, urlsplit(self.path).path)
            if file is None:
                self.send(404, b"not found\n", "text/plain", head_only=head_only)
                return
            content_type = _CONTENT_TYPES.get(file.suffix, "application/octet-stream")
            self.send(200, file.read_bytes(), content_type, head_only=head_only)

    return ExchangeHandler


def _bundle_file(root: Path, path: str) -> Path | None:
    """The file a request names, if it is a visible file of a day folder: nothing else
    under root (no listing, no dot files such as a manifest being staged)."""
    match = re.fullmatch(r"/(\d{8})/([A-Za-z0-9_-][A-Za-z0-9_.-]*)", path)
    if match is None:
        return None
    file = root / match[1] / match[2]
    return file if file.is_file() else None
