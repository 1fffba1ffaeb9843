"""Pulling every page of one list endpoint of a REST source (housing, credit).

The contract: follow next_page_token until null; the FIRST page's server_time
is the next pull's watermark; every page carries the `total` the pull's window
held when its first page was served, and a pull never brings fewer; 429
carries Retry-After; 502/503/504 are transient. Retries and their back-off are
urllib3's, which honours Retry-After up to the source's cap.

A source that misbehaves fails the pull rather than hanging it or handing over
part of a table as the whole: a page larger than the cap, more pages than the
cap, a page token served twice, or fewer records than announced."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from wageguard.db.bulk import bulk_work
from wageguard.sources.config import LIMIT_EXTRAS, SourceConfig
from wageguard.sources.http_session import (
    CREDENTIALS_REFUSED,
    TRANSIENT,
    CredentialsRefusedError,
    RedirectRefusedError,
    SourceSession,
    retrying_session,
)
from wageguard.sources.spool import Spool

log = logging.getLogger(__name__)


class SourceError(RuntimeError):
    pass


class SourceCredentialsRefused(SourceError, CredentialsRefusedError):
    pass


@dataclass
class Pull:
    records: Spool = field(default_factory=Spool)  # in arrival order
    server_time: str | None = None  # from the first page
    pages: int = 0
    seconds: float = 0.0


def session_for(config: SourceConfig, auth_header: str, auth_prefix: str = "") -> SourceSession:
    session = retrying_session(config)
    if config.secret:
        session.headers[auth_header] = f"{auth_prefix}{config.secret}"
    return session


MAX_RESUMES = 5


def _pages(
    session: SourceSession, url: str, params: dict, label: str
) -> Iterator[dict]:
    """Every page of one pull. A page token refused mid-pull (they expire after
    an hour) resumes the pull instead of failing it, up to MAX_RESUMES times in
    a row without progress: an incremental pull from
    the updated_at of the last record received (inclusive, so nothing is
    skipped; what comes twice is deduplicated downstream), a partition pull
    from its start.

    A resumed pull is a new pull to the server, with a `total` of its own: the
    records received since the last (re)start are held to it."""
    limits = session.limits
    query_base, token, resumes, last_seen = dict(params), None, 0, None
    fetched, tokens, announced, received = 0, set(), 0, 0
    while True:
        query = dict(query_base)
        if token:
            query["page_token"] = token
        status, body = _get(session, url, query, label)
        if status == 400 and token and resumes < MAX_RESUMES:
            resumes += 1
            log.warning("%s: page token refused (%s); resuming the pull (%d of %d)",
                        label, _error_text(body), resumes, MAX_RESUMES)
            if last_seen and "month" not in query_base:
                query_base["updated_since"] = last_seen
            # A server may issue the tokens of the resumed pull again.
            token = None
            tokens.clear()
            continue
        if status != 200:
            raise (SourceCredentialsRefused if status in CREDENTIALS_REFUSED else SourceError)(
                f"{label}: {url} answered {status} ({_error_text(body)}) after retries; "
                + _advice(status)
            )
        page = json.loads(body)
        fetched += 1
        if token is None:
            announced, received = _total(page, url, label), 0
        received += len(page["items"])
        if page["items"] and isinstance(page["items"][-1], dict):
            newest = page["items"][-1].get("updated_at")
            if newest and newest != last_seen:
                last_seen, resumes = newest, 0  # progress: only refusals in a row count
        yield page
        token = page.get("next_page_token")
        if not token:
            if received < announced:
                raise SourceError(
                    f"{label}: {url} announced {announced} records but ended the pull after "
                    f"{received}: the source stopped paging early, and part of a table must "
                    "not be published as the whole. Nothing was loaded; re-run the task, "
                    "and if it recurs, report it to the source system's operators"
                )
            return
        if token in tokens:
            raise SourceError(
                f"{label}: {url} served a page token it had already served in this pull: "
                "the source is paging in a loop that would never end. Re-run the task; if "
                "it recurs, report it to the source system's operators"
            )
        tokens.add(token)
        if fetched >= limits.pages:
            raise SourceError(
                f"{label}: {url} is still paging after {fetched} pages, the most one pull "
                f"may take; if the table really is that large, raise "
                f"{LIMIT_EXTRAS['pages'][0]!r} in the connection's extra"
            )


def _get(session: SourceSession, url: str, query: dict, label: str) -> tuple[int, bytes]:
    try:
        response = session.get(url, params=query, timeout=(10, 120), stream=True)
    except RedirectRefusedError as refused:
        raise SourceError(f"{label}: {refused}") from None
    limit = session.limits.page_bytes
    body = _bounded_body(response, limit)
    if body is None:
        raise SourceError(
            f"{label}: {url} answered with more than {limit / (1 << 20):g} MiB, the most one "
            "page may hold; the contract's pages are far smaller, so the source is "
            "misbehaving. If its records really are that large, raise "
            f"{LIMIT_EXTRAS['page_bytes'][0]!r} in the connection's extra"
        )
    return response.status_code, body


def _bounded_body(response, limit: int) -> bytes | None:
    """The body, or None as soon as it proves larger than limit bytes (closing
    the connection rather than reading the rest)."""
    with response:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            return None
        body = bytearray()
        for block in response.iter_content(1 << 20):
            body += block
            if len(body) > limit:
                return None
        return bytes(body)


def _total(page: dict, url: str, label: str) -> int:
    total = page.get("total")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise SourceError(
            f"{label}: {url} served a page without a valid total ({total!r}), which the "
            "contract promises on every page: without it a pull that ends early cannot be "
            "told from a whole one. Ask the source system's operators what changed"
        )
    return total


def _error_text(body: bytes) -> str:
    try:
        return str(json.loads(body).get("error", body[:200].decode(errors="replace")))
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")


def _advice(status: int) -> str:
    if status == 401:
        return "check the token / API key in the Airflow connection"
    if status == 403:
        return ("the token / API key is not allowed this table: ask the source system's "
                "operators to grant it")
    if status == 400:
        return "a parameter or page token was refused; re-run the task to start the pull again"
    if status in TRANSIENT:
        return "the source is overloaded or down; the task will be retried"
    return "see the source system's status"


def pull_all(
    session: SourceSession,
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
