"""Pulling every page of one list endpoint of a REST source (housing, credit).

The contract: follow next_page_token until null; the FIRST page's server_time
is the next pull's watermark; 429 carries Retry-After; 502/503/504 are
transient. Retries and their back-off are urllib3's, which honours
Retry-After."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests

from wageguard.sources.config import SourceConfig
from wageguard.sources.http_session import TRANSIENT, retrying_session
from wageguard.sources.spool import Spool
from wageguard.warehouse.bulk import bulk_work

log = logging.getLogger(__name__)


class SourceError(RuntimeError):
    pass


@dataclass
class Pull:
    records: Spool = field(default_factory=Spool)  # in arrival order
    server_time: str | None = None  # from the first page
    pages: int = 0
    seconds: float = 0.0


def session_for(config: SourceConfig, auth_header: str, auth_prefix: str = "") -> requests.Session:
    session = retrying_session(config)
    if config.secret:
        session.headers[auth_header] = f"{auth_prefix}{config.secret}"
    return session


MAX_RESUMES = 5


def _pages(
    session: requests.Session, url: str, params: dict, label: str
) -> Iterator[dict]:
    """Every page of one pull. A page token refused mid-pull (they expire after
    an hour) resumes the pull instead of failing it, up to MAX_RESUMES times in
    a row without progress: an incremental pull from
    the updated_at of the last record received (inclusive, so nothing is
    skipped; what comes twice is deduplicated downstream), a partition pull
    from its start."""
    query_base, token, resumes, last_seen = dict(params), None, 0, None
    while True:
        query = dict(query_base)
        if token:
            query["page_token"] = token
        response = session.get(url, params=query, timeout=(10, 120))
        if response.status_code == 400 and token and resumes < MAX_RESUMES:
            resumes += 1
            log.warning("%s: page token refused (%s); resuming the pull (%d of %d)",
                        label, _error_text(response), resumes, MAX_RESUMES)
            if last_seen and "month" not in query_base:
                query_base["updated_since"] = last_seen
            token = None
            continue
        if response.status_code != 200:
            raise SourceError(
                f"{label}: {url} answered {response.status_code} "
                f"({_error_text(response)}) after retries; "
                + _advice(response.status_code)
            )
        page = json.loads(response.content)
        if page["items"] and isinstance(page["items"][-1], dict):
            newest = page["items"][-1].get("updated_at")
            if newest and newest != last_seen:
                last_seen, resumes = newest, 0  # progress: only refusals in a row count
        yield page
        token = page.get("next_page_token")
        if not token:
            return


def _error_text(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", response.text[:200]))
    except ValueError:
        return response.text[:200]


def _advice(status: int) -> str:
    if status == 401:
        return "check the token / API key in the Airflow connection"
    if status == 400:
        return "a parameter or page token was refused; re-run the task to start the pull again"
    if status in TRANSIENT:
        return "the source is overloaded or down; the task will be retried"
    return "see the source system's status"


def pull_all(
    session: requests.Session,
    base_url: str,
    path: str,
    params: dict,
    label: str,
    pull: Pull | None = None,
    progress_every: int = 20,
) -> Pull:
    """Every page of one pull, added to `pull` (a new one if None)."""
    started = time.monotonic()
    pull = pull or Pull()
    pages, records = 0, 0
    with bulk_work():
        for page in _pages(session, f"{base_url}{path}", params, label):
            if pull.server_time is None:
                pull.server_time = page["server_time"]
            pull.records.add(page["items"])
            pages += 1
            records += len(page["items"])
            if pages % progress_every == 0:
                log.info("%s: %d pages, %d records so far", label, pages, records)
    seconds = time.monotonic() - started
    pull.pages += pages
    pull.seconds += seconds
    log.info("%s: pulled %d records in %d pages (%.1f s)", label, records, pages, seconds)
    return pull
