"""The source clients against sources that misbehave, each a small server on this
machine: credentials never follow a redirect to another origin, and a pull is
bounded (page bytes, pages, a repeated page token, Retry-After) and whole (never
fewer records than the server's `total`)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from wageguard.sources.config import PullLimits, SourceConfig, from_connection
from wageguard.sources.devreform import newest_complete_bundle
from wageguard.sources.http_session import (
    RedirectRefusedError,
    check_redirect,
    retrying_session,
)
from wageguard.sources.paged_api import SourceError
from wageguard.sources.rest_feeds import FEEDS, pull_feed
from wageguard_dev.demo.serving import BackgroundServer, QuietHandler

SECRET = "s3cret-credential"
D = dt.date(2026, 11, 21)


@contextmanager
def serving(answer, *, sized: bool = True):
    """A server on an ephemeral port of 127.0.0.1 whose every GET is answered by
    `answer(path, query)` -> (status, body, headers); yields its URL and the list
    of (path, headers) of the requests it saw. Unsized, a body has no
    Content-Length and ends when the connection closes: only reading it tells
    its size."""
    seen: list[tuple[str, dict[str, str]]] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            seen.append((url.path, dict(self.headers)))
            query = {name: values[-1] for name, values in parse_qs(url.query).items()}
            status, body, headers = answer(url.path, query)
            if sized:
                self.send(status, body, "application/json", headers)
                return
            self.close_connection = True
            self.send_response(status)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

    server = BackgroundServer(Handler, "127.0.0.1", 0).start()
    try:
        yield server.url, seen
    finally:
        server.stop()


def page(items, token=None, total=None) -> tuple[int, bytes, dict]:
    total = len(items) if total is None else total
    body = {"items": items, "next_page_token": token, "total": total,
            "server_time": "2026-11-21T01:00:00+08:00"}
    return 200, json.dumps(body).encode(), {}


def record(n: int) -> dict:
    return {"project_id": f"P{n}", "updated_at": f"2026-11-20T08:00:{n:02d}+08:00"}


def pull(url: str, table: str = "projects", **limits):
    config = SourceConfig(url, secret=SECRET, limits=PullLimits(**limits))
    return pull_feed(FEEDS[table], config, watermark=None)


# --- credentials stay with their host ------------------------------------------------

_BASIC = "Basic " + base64.b64encode(f"fgw:{SECRET}".encode()).decode()

# auth kind -> (pull from a source at a URL, the source's name in errors, the credential)
AUTH_KINDS = {
    "housing bearer": (
        lambda url: pull(url, "projects"), "projects", ("Authorization", f"Bearer {SECRET}")),
    "credit api key": (
        lambda url: pull(url, "enterprises"), "enterprises", ("X-Api-Key", SECRET)),
    "exchange basic": (
        lambda url: newest_complete_bundle(SourceConfig(url, login="fgw", secret=SECRET), D),
        "dev-reform exchange", ("Authorization", _BASIC)),
    "exchange without login": (
        lambda url: newest_complete_bundle(SourceConfig(url), D),
        "dev-reform exchange", None),
}


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("kind", list(AUTH_KINDS))
def test_a_redirect_to_another_origin_is_refused_before_the_credential_leaves(kind, status):
    pull_from, name, credential = AUTH_KINDS[kind]
    with (
        serving(lambda path, query: page([record(1)])) as (elsewhere, seen_elsewhere),
        serving(lambda path, query: (status, b"", {"Location": elsewhere + path}))
        as (source, seen_at_source),
        pytest.raises(RuntimeError) as refused,
    ):
        pull_from(source)
    message = str(refused.value)
    assert message.startswith(f"{name}: refused the redirect from {source}/")
    assert f" to {elsewhere}/" in message
    assert "point the connection at " + elsewhere in message
    assert seen_at_source, "the source itself was asked"
    if credential:
        header, value = credential
        assert seen_at_source[0][1].get(header) == value, "the credential was in play"
    assert seen_elsewhere == [], "the other origin never saw a request, let alone a credential"


@pytest.mark.parametrize("kind", ["housing bearer", "credit api key"])
def test_a_redirect_within_the_origin_is_followed_with_the_credential(kind):
    pull_from, table, (header, value) = AUTH_KINDS[kind]

    def moved(path, query):
        if path.startswith("/v1/"):
            return 307, b"", {"Location": path.replace("/v1/", "/v2/", 1)}
        return page([record(1), record(2)])

    with serving(moved) as (source, seen):
        pulled = pull_from(source)
    assert len(pulled.records) == 2
    path = FEEDS[table].path
    assert [p for p, _ in seen] == [path, path.replace("/v1/", "/v2/")]
    assert seen[1][1].get(header) == value


def test_https_to_http_is_never_followed_and_origins_are_scheme_host_and_port():
    with pytest.raises(RedirectRefusedError, match="leaves https for plain http"):
        check_redirect("https://zjt.example.gov.cn/v1/projects",
                       "http://zjt.example.gov.cn/v1/projects?page_token=x")
    for source, elsewhere in (
        ("http://zjt.example.gov.cn/v1", "https://zjt.example.gov.cn/v1"),  # an upgrade too
        ("https://zjt.example.gov.cn/v1", "https://zjt.example.gov.cn:8443/v1"),
        ("https://zjt.example.gov.cn/v1", "https://other.example.gov.cn/v1"),
        ("https://zjt.example.gov.cn/v1", "https://zjt.example.gov.cn:x/v1"),
    ):
        with pytest.raises(RedirectRefusedError, match="point the connection at"):
            check_redirect(source, elsewhere)
    check_redirect("https://ZJT.example.gov.cn/v1/projects",
                   "https://zjt.example.gov.cn:443/v2/projects")
    with pytest.raises(RedirectRefusedError) as refused:
        check_redirect("https://zjt.example.gov.cn/v1", "https://user:pw@other.example/v1")
    assert "pw" not in str(refused.value)


# --- bounded pulls -------------------------------------------------------------------


@pytest.mark.parametrize("sized", [True, False], ids=["declared", "undeclared"])
def test_a_page_larger_than_the_cap_fails_the_pull(sized):
    _, body, _ = page([record(n) for n in range(60)])
    with serving(lambda path, query: (200, body, {}), sized=sized) as (source, _):
        with pytest.raises(SourceError, match=r"projects: .* more than .* MiB.*'max_page_mib'"):
            pull(source, page_bytes=len(body) - 1)
        assert len(pull(source, page_bytes=len(body)).records) == 60


def test_a_pull_that_never_ends_stops_at_the_page_cap():
    def endless(path, query):
        n = int(query.get("page_token", "0")) + 1
        return page([record(n)], token=str(n), total=10**6)

    with (
        serving(endless) as (source, seen),
        pytest.raises(SourceError, match=r"still paging after 5 pages.*'max_pages'"),
    ):
        pull(source, pages=5)
    assert len(seen) == 5


def test_a_repeated_page_token_is_a_loop_and_fails_the_pull():
    with (
        serving(lambda path, query: page([record(1)], token="again", total=10)) as (source, seen),
        pytest.raises(SourceError, match="already served in this pull"),
    ):
        pull(source)
    assert len(seen) == 2


def test_retry_after_is_honoured_only_up_to_the_cap():
    answers = iter([(429, b'{"error": "slow down"}', {"Retry-After": "21600"})])

    def throttled_once(path, query):
        return next(answers, None) or page([record(1)])

    with serving(throttled_once) as (source, seen):
        started = time.monotonic()
        pulled = pull(source, retry_after_s=1)
        waited = time.monotonic() - started
    assert len(pulled.records) == 1 and len(seen) == 2
    assert 1 <= waited < 10


def test_the_limits_have_sane_defaults_and_are_set_in_the_connection_extra():
    assert PullLimits() == PullLimits(page_bytes=64 << 20, pages=100_000, retry_after_s=300)
    session = retrying_session(SourceConfig("http://127.0.0.1:9"))
    assert session.get_adapter("http://127.0.0.1:9").max_retries.retry_after_max == 300

    class Conn:
        conn_type, host, port, schema, login, password = "http", "h", 443, "https", None, "k"
        extra = json.dumps({"max_page_mib": 8, "max_pages": 10, "max_retry_after_s": 60})

    assert from_connection(Conn()).limits == PullLimits(8 << 20, 10, 60)
    Conn.extra = json.dumps({"max_pages": "many"})
    with pytest.raises(ValueError, match="'max_pages' must be a whole number"):
        from_connection(Conn())


# --- a pull is whole -----------------------------------------------------------------


def test_a_pull_ending_before_the_announced_total_fails():
    def short(path, query):
        if "page_token" not in query:
            return page([record(1), record(2)], token="p2", total=9999)
        return page([record(3)], total=9999)

    with (
        serving(short) as (source, _),
        pytest.raises(SourceError, match="announced 9999 records but ended the pull after 3"),
    ):
        pull(source)


def test_a_page_without_a_total_fails_the_pull():
    def no_total(path, query):
        return 200, json.dumps({"items": [], "next_page_token": None,
                                "server_time": "2026-11-21T01:00:00+08:00"}).encode(), {}

    with (
        serving(no_total) as (source, _),
        pytest.raises(SourceError, match="without a valid total"),
    ):
        pull(source)


def test_records_served_twice_may_exceed_the_total():
    # The first record changed while the client paged: served again on a later page.
    def changed(path, query):
        if "page_token" not in query:
            return page([record(1), record(2)], token="p2", total=3)
        return page([record(3), {**record(1), "updated_at": "2026-11-20T09:00:00+08:00"}],
                    total=3)

    with serving(changed) as (source, _):
        assert len(pull(source).records) == 4


@pytest.mark.parametrize(("resumed", "whole"), [(3, True), (2, False)])
def test_a_resumed_pull_is_held_to_the_total_it_announces(resumed, whole):
    """The token of page 2 expires; the pull starts again from the last record
    received, a window whose total is its own."""
    last = record(2)["updated_at"]

    def expiring(path, query):
        if query.get("page_token") == "p2":
            return 400, b'{"error": "page_token expired: start the pull again"}', {}
        if query.get("updated_since") == last:
            return page([record(2), record(3), record(4)][:resumed], total=3)
        return page([record(1), record(2)], token="p2", total=4)

    with serving(expiring) as (source, seen):
        if whole:
            pulled = pull(source)
            assert {r["project_id"] for r in pulled.records} == {"P1", "P2", "P3", "P4"}
        else:
            with pytest.raises(SourceError, match="announced 3 records but ended the pull after 2"):
                pull(source)
    assert len(seen) == 3
