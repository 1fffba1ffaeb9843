"""The development-and-reform exchange: find the newest complete bundle on or
before the run date, verify it against its manifest, decode its CSVs.

The exchange is a folder or an HTTP base URL with the same relative paths
(no listing over HTTP, so days are probed backwards)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from wageguard.sources.config import SourceConfig
from wageguard.sources.http_session import retrying_session

log = logging.getLogger(__name__)

FILES = ("investment_projects.csv", "fund_disbursements.csv")


class NoBundleError(RuntimeError):
    pass


@dataclass
class Bundle:
    day: dt.date
    manifest: dict
    rows: dict[str, list[dict]]  # table name -> rows keyed by the Chinese headers
    file_hashes: dict[str, str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (day, why)


class _Reader:
    """Reads a relative path from a folder or an HTTP base URL; None when absent."""

    def __init__(self, config: SourceConfig):
        self.config = config
        if config.is_http:
            self.http = retrying_session(config)
            if config.secret:
                self.http.auth = (config.login or "", config.secret)

    def read(self, relative: str) -> bytes | None:
        if not self.config.is_http:
            path = Path(self.config.location) / relative
            return path.read_bytes() if path.is_file() else None
        url = f"{self.config.location.rstrip('/')}/{relative}"
        response = self.http.get(url, timeout=(10, 300))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RuntimeError(
                f"dev-reform exchange: {url} answered {response.status_code}"
                + ("; check the login/password of the devreform_exchange connection"
                   if response.status_code == 401 else "")
            )
        return response.content


def _parse_csv(data: bytes, encoding: str) -> list[dict]:
    text = data.decode(encoding)
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _check_bundle(reader: _Reader, day: dt.date) -> tuple[Bundle | None, str | None]:
    folder = day.strftime("%Y%m%d")
    raw_manifest = reader.read(f"{folder}/manifest.json")
    if raw_manifest is None:
        return None, "no manifest.json (missing day or still being copied)"
    manifest = json.loads(raw_manifest)
    encoding = manifest.get("encoding", "GB18030")
    listed = {f["name"]: f for f in manifest.get("files", [])}
    rows: dict[str, list[dict]] = {}
    hashes: dict[str, str] = {}
    for name in FILES:
        entry = listed.get(name)
        if entry is None:
            return None, f"manifest does not list {name}"
        data = reader.read(f"{folder}/{name}")
        if data is None:
            return None, f"{name} is missing"
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            return None, f"{name} sha256 {digest[:12]}… does not match the manifest"
        parsed = _parse_csv(data, encoding)
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
