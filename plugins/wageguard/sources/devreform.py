"""The development-and-reform exchange: find the newest complete bundle on or
before the run date, verify it against its manifest, decode its CSVs.

The exchange is a folder or an HTTP base URL with the same relative paths
(no listing over HTTP, so days are probed backwards). Each file is copied to
a temporary file while it is hashed, so what is verified is exactly what is
read, row by row, without holding a province's bundle in memory."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from wageguard.sources.config import SourceConfig
from wageguard.sources.http_session import (
    CREDENTIALS_REFUSED,
    CredentialsRefusedError,
    RedirectRefusedError,
    retrying_session,
)
from wageguard.sources.spool import Spool

log = logging.getLogger(__name__)

FILES = ("investment_projects.csv", "fund_disbursements.csv")


class NoBundleError(RuntimeError):
    pass


@dataclass
class Bundle:
    day: dt.date
    manifest: dict
    rows: dict[str, BundleFile]  # table name -> rows keyed by the Chinese headers
    file_hashes: dict[str, str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (day, why)


class BundleFile:
    """One verified CSV of a bundle: its rows, keyed by the Chinese headers,
    as csv.DictReader gives them; iterable (again) and sized. The CSV is
    parsed once, from the copy that was hashed, into a spool: counting its
    rows against the manifest and landing them read that one parse."""

    BLOCK = 1 << 20  # bytes read or received at a time
    PAGE = 10_000  # rows a spool page holds

    def __init__(self, copy, encoding: str):
        copy.seek(0)
        with io.TextIOWrapper(copy, encoding=encoding, newline="") as text:
            rows = csv.reader(text)
            self._header = next(rows, [])
            self._spool = Spool()
            page: list[list[str]] = []
            for row in rows:
                if row:  # DictReader skips blank lines
                    page.append(row)
                    if len(page) == self.PAGE:
                        self._spool.add(page)
                        page = []
            self._spool.add(page)

    def __len__(self) -> int:
        return len(self._spool)

    def __iter__(self) -> Iterator[dict]:
        header, width = self._header, len(self._header)
        for row in self._spool:
            record: dict[str | None, object] = dict(zip(header, row, strict=False))
            # What DictReader makes of a row that is not the header's width.
            if len(row) > width:
                record[None] = row[width:]
            elif len(row) < width:
                record.update(dict.fromkeys(header[len(row):]))
            yield record


class _Reader:
    """Copies a relative path from a folder or an HTTP base URL into a
    temporary file, returning it with its sha256; None when absent."""

    def __init__(self, config: SourceConfig):
        self.config = config
        if config.is_http:
            self.http = retrying_session(config)
            if config.secret:
                self.http.auth = (config.login or "", config.secret)

    def read(self, relative: str) -> bytes | None:
        fetched = self.fetch(relative)
        if fetched is None:
            return None
        copy, _ = fetched
        copy.seek(0)
        return copy.read()

    def fetch(self, relative: str) -> tuple[IO[bytes], str] | None:
        blocks = self._blocks(relative)
        if blocks is None:
            return None
        copy = tempfile.TemporaryFile()  # noqa: SIM115 - lives until its CSV is parsed
        digest = hashlib.sha256()
        for block in blocks:
            digest.update(block)
            copy.write(block)
        return copy, digest.hexdigest()

    def _blocks(self, relative: str) -> Iterator[bytes] | None:
        if not self.config.is_http:
            path = Path(self.config.location) / relative
            return _file_blocks(path) if path.is_file() else None
        url = f"{self.config.location.rstrip('/')}/{relative}"
        try:
            response = self.http.get(url, timeout=(10, 300), stream=True)
        except RedirectRefusedError as refused:
            raise RuntimeError(f"dev-reform exchange: {refused}") from None
        if response.status_code == 404:
            response.close()
            return None
        if response.status_code != 200:
            response.close()
            raise (CredentialsRefusedError if response.status_code in CREDENTIALS_REFUSED
                   else RuntimeError)(
                f"dev-reform exchange: {url} answered {response.status_code}"
                + {401: "; check the login/password of the devreform_exchange connection",
                   403: "; the devreform_exchange login is not allowed this folder: ask the "
                        "exchange's operators to grant it"}.get(response.status_code, "")
            )
        return _response_blocks(response)


def _file_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while block := source.read(BundleFile.BLOCK):
            yield block


def _response_blocks(response) -> Iterator[bytes]:
    with response:
        yield from response.iter_content(BundleFile.BLOCK)


def _check_bundle(reader: _Reader, day: dt.date) -> tuple[Bundle | None, str | None]:
    folder = day.strftime("%Y%m%d")
    raw_manifest = reader.read(f"{folder}/manifest.json")
    if raw_manifest is None:
        return None, "no manifest.json (missing day or still being copied)"
    try:
        manifest = json.loads(raw_manifest)
        listed = {f["name"]: f for f in manifest.get("files", [])}
        for entry in listed.values():
            int(entry["rows"]), str(entry["sha256"])
    except (ValueError, TypeError, KeyError, AttributeError) as broken:
        # Half written, or written by hand: the bundle cannot be checked.
        return None, f"manifest.json cannot be read ({type(broken).__name__}: {broken})"
    if manifest.get("export_date") != day.isoformat():
        return None, (
            f"the manifest's export_date is {manifest.get('export_date')!r}, not the folder's "
            f"day {day.isoformat()}: an older bundle copied under a newer day is not that "
            "day's data"
        )
    encoding = manifest.get("encoding", "GB18030")
    rows: dict[str, BundleFile] = {}
    hashes: dict[str, str] = {}
    for name in FILES:
        entry = listed.get(name)
        if entry is None:
            return None, f"manifest does not list {name}"
        fetched = reader.fetch(f"{folder}/{name}")
        if fetched is None:
            return None, f"{name} is missing"
        copy, digest = fetched
        if digest != entry["sha256"]:
            return None, f"{name} sha256 {digest[:12]}… does not match the manifest"
        parsed = BundleFile(copy, encoding)
        if len(parsed) != int(entry["rows"]):
            return None, f"{name} has {len(parsed)} rows, the manifest says {entry['rows']}"
        rows[name.removesuffix(".csv")] = parsed
        hashes[name] = digest
    return Bundle(day=day, manifest=manifest, rows=rows, file_hashes=hashes), None


def newest_complete_bundle(
    config: SourceConfig, run_date: dt.date, max_lookback_days: int = 10
) -> Bundle:
    """The newest bundle whose day is on or before run_date and that matches its
    manifest; never half a bundle."""
    reader = _Reader(config)
    skipped: list[tuple[str, str]] = []
    for back in range(max_lookback_days + 1):
        day = run_date - dt.timedelta(days=back)
        bundle, why = _check_bundle(reader, day)
        if bundle:
            bundle.skipped = skipped
            for skipped_day, reason in skipped:
                log.warning("dev-reform bundle %s skipped: %s", skipped_day, reason)
            return bundle
        skipped.append((day.isoformat(), why or ""))
    raise NoBundleError(
        f"no complete dev-reform bundle within {max_lookback_days} days before "
        f"{run_date}: " + "; ".join(f"{d}: {w}" for d, w in skipped)
    )
