"""The paged JSON list API that both the housing and the credit systems offer, as their
contracts describe it: auth, inclusive `updated_since`, (updated_at, id) order, keyset
paging with signed expiring tokens, the window's `total` as the pull's first page found
it, `server_time` from the server's clock, JSON errors, and switchable faults (5xx, 429
bursts, short-lived tokens, records changing mid-pull).

Records are served as a change log: every version stays, and a change is a new version
at the end. The server's clock hides what is not yet written: only records with
`updated_at <= clock()` exist, so a test can replay successive nights."""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import itertools
import json
import math
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from .records import SHANGHAI
from .serving import QuietHandler

Clock = Callable[[], datetime]
Key = tuple[float, str, int]  # (updated_at as a timestamp, id, arrival): unique, ordered


def shanghai_now() -> datetime:
    return datetime.now(SHANGHAI)


@dataclass(frozen=True)
class Faults:
    """Misbehaviour to switch on; all off by default. Draws come from one generator
    seeded with `seed`, so a single client meets the same faults on every run."""

    seed: int = 0
    transient_rate: float = 0.0  # share of requests answered 502, 503 or 504
    throttle_rate: float = 0.0  # share of requests that start a burst of 429s
    retry_after_s: int = 1  # how long a burst lasts, and the Retry-After sent
    token_ttl_s: float = 3600.0  # how long a next_page_token stays valid (wall time)
    after_page: Callable[[PagedJsonApi, str], None] | None = None
    """Called with the API and the path after each page is composed, before it is sent:
    a test adds records here (`api.add_record`) to change data while a client pages."""


@dataclass(frozen=True)
class Endpoint:
    path: str
    records: Iterable[dict]
    id_field: str  # orders records that share an updated_at
    partition_by: str | None = None  # a required query parameter choosing a partition
    partition_pattern: str = ".+"

    @property
    def incremental(self) -> bool:
        """A partitioned endpoint is asked for a partition, not for what changed."""
        return self.partition_by is None


class PageSizes(NamedTuple):
    default: int
    maximum: int


class Response(NamedTuple):
    status: int
    body: bytes
    headers: dict[str, str]


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.response = Response(status, _json({"error": message}), headers or {})


class RecordLog:
    """One endpoint's (or partition's) records, serialised once, in serving order."""

    def __init__(self, id_field: str):
        self._id_field = id_field
        self._arrivals = itertools.count()
        self._keys: list[Key] = []
        self._times: list[float] = []
        self._bodies: list[bytes] = []
        self._lock = threading.Lock()

    def _entry(self, record: dict) -> tuple[Key, bytes]:
        updated = datetime.fromisoformat(record["updated_at"]).timestamp()
        key = (updated, str(record.get(self._id_field) or ""), next(self._arrivals))
        return key, _json(record)

    def load(self, records: Iterable[dict]) -> None:
        entries = sorted(self._entry(r) for r in records)
        with self._lock:
            self._keys = [k for k, _ in entries]
            self._times = [k[0] for k in self._keys]
            self._bodies = [b for _, b in entries]

    def add(self, record: dict) -> None:
        key, body = self._entry(record)
        with self._lock:
            at = bisect.bisect_right(self._keys, key)
            self._keys.insert(at, key)
            self._times.insert(at, key[0])
            self._bodies.insert(at, body)

    def count(self, *, since: float | None, until: float) -> int:
        """How many records have since <= updated_at <= until."""
        with self._lock:
            start = 0 if since is None else bisect.bisect_left(self._times, since)
            return max(0, bisect.bisect_right(self._times, until) - start)

    def page(
        self, *, since: float | None, after: Key | None, until: float, size: int
    ) -> tuple[list[bytes], Key | None]:
        """Up to `size` records after `after` with since <= updated_at <= until, and the
        key to continue from (None when nothing is left)."""
        with self._lock:
            start = 0 if since is None else bisect.bisect_left(self._times, since)
            if after is not None:
                start = max(start, bisect.bisect_right(self._keys, after))
            end = bisect.bisect_right(self._times, until)
            stop = min(start + size, end)
            bodies = self._bodies[start:stop]
            more = self._keys[stop - 1] if stop < end else None
        return bodies, more


class PagedJsonApi:
    """One source system's list endpoints behind one auth check."""

    def __init__(
        self,
        endpoints: Iterable[Endpoint],
        *,
        authorized: Callable[[Message], bool],
        page_sizes: PageSizes,
        clock: Clock | None = None,
        faults: Faults | None = None,
    ):
        self._authorized = authorized
        self._page_sizes = page_sizes
        self._clock = clock or shanghai_now
        self.faults = faults or Faults()
        self._endpoints: dict[str, Endpoint] = {}
        self._logs: dict[str, dict[str, RecordLog]] = {}
        for endpoint in endpoints:
            self._endpoints[endpoint.path] = endpoint
            self._logs[endpoint.path] = _partitioned(endpoint)
        self._token_key = secrets.token_bytes(32)
        self._fault_draws = random.Random(self.faults.seed)
        self._fault_lock = threading.Lock()
        self._throttled_until = 0.0
        self.first_request_at: float | None = None  # wall time, for timing a night's pulls

    def add_record(self, path: str, record: dict) -> None:
        """Write a record (a new version, or a new id) as the source system would."""
        endpoint = self._endpoints[path]
        partition = record[endpoint.partition_by] if endpoint.partition_by else ""
        logs = self._logs[path]
        if partition not in logs:
            logs[partition] = RecordLog(endpoint.id_field)
        logs[partition].add(record)

    def respond(
        self, path: str, query: Mapping[str, list[str]], headers: Message
    ) -> Response:
        if self.first_request_at is None:
            self.first_request_at = time.time()
        endpoint = self._endpoints.get(path)
        if endpoint is None:
            return Response(404, _json({"error": f"no endpoint {path}"}), {})
        try:
            self._shed_load()
            if not self._authorized(headers):
                raise _Refused(401, "missing or wrong credentials")
            response = self._page(endpoint, {name: values[-1] for name, values in query.items()})
        except _Refused as refused:
            return refused.response
        if self.faults.after_page:
            self.faults.after_page(self, path)
        return response

    def handler(self) -> type[QuietHandler]:
        api = self

        class PagedJsonHandler(QuietHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                response = api.respond(url.path, parse_qs(url.query), self.headers)
                self.send(response.status, response.body, "application/json; charset=utf-8",
                          response.headers)

        return PagedJsonHandler

    # --- one request ----------------------------------------------------------------

    def _shed_load(self) -> None:
        faults = self.faults
        with self._fault_lock:
            now = time.monotonic()
            if now < self._throttled_until:
                wait = math.ceil(self._throttled_until - now)
                raise _Refused(429, "too many requests", {"Retry-After": str(wait)})
            draw = self._fault_draws.random()
            if draw < faults.throttle_rate:
                self._throttled_until = now + faults.retry_after_s
                raise _Refused(429, "too many requests", {"Retry-After": str(faults.retry_after_s)})
            if draw < faults.throttle_rate + faults.transient_rate:
                status = self._fault_draws.choice((502, 503, 504))
                raise _Refused(status, "upstream unavailable, retry later")

    def _page(self, endpoint: Endpoint, params: dict[str, str]) -> Response:
        size = self._page_size(params.get("page_size"))
        since = None
        if endpoint.incremental and "updated_since" in params:
            since = _parse_since(params["updated_since"])
        partition = ""
        if endpoint.partition_by and endpoint.partition_by in params:
            partition = params[endpoint.partition_by]
            if not re.fullmatch(endpoint.partition_pattern, partition):
                raise _Refused(
                    400, f"{endpoint.partition_by} must match {endpoint.partition_pattern}"
                )
        after, total = None, None
        if "page_token" in params:
            query = self._open_token(params["page_token"])
            if query["path"] != endpoint.path:
                raise _Refused(400, "page_token belongs to another endpoint")
            if ("updated_since" in params and query["since"] != since) or (
                endpoint.partition_by in params and query["partition"] != partition
            ):
                raise _Refused(400, "page_token was issued for a different query")
            since, partition, after = query["since"], query["partition"], tuple(query["after"])
            total = query["total"]
        elif endpoint.partition_by and not partition:
            raise _Refused(400, f"{endpoint.partition_by} is required")
        now = self._clock().astimezone(SHANGHAI)
        bodies: list[bytes] = []
        more: Key | None = None
        window = 0
        records = self._logs[endpoint.path].get(partition)
        if records is not None:
            bodies, more = records.page(
                since=since, after=after, until=now.timestamp(), size=size
            )
            window = records.count(since=since, until=now.timestamp())
        total = window if total is None else total  # as the first page found it
        token = None
        if more is not None:
            token = self._seal({"path": endpoint.path, "since": since, "partition": partition,
                                "after": more, "total": total})
        body = b"".join((
            b'{"items":[', b",".join(bodies), b'],"next_page_token":', _json(token),
            b',"total":', _json(total), b',"server_time":', _json(now.isoformat()), b"}",
        ))
        return Response(200, body, {})

    def _page_size(self, given: str | None) -> int:
        if given is None:
            return self._page_sizes.default
        maximum = self._page_sizes.maximum
        if not given.isdigit() or not 1 <= int(given) <= maximum:
            raise _Refused(400, f"page_size must be an integer from 1 to {maximum}")
        return int(given)

    def _seal(self, query: dict) -> str:
        payload = _json({**query, "issued": time.time()})
        signature = hmac.digest(self._token_key, payload, hashlib.sha256)
        return f"{_b64(payload)}.{_b64(signature)}"

    def _open_token(self, token: str) -> dict:
        try:
            payload_text, signature_text = token.split(".")
            payload, signature = _unb64(payload_text), _unb64(signature_text)
        except ValueError:
            raise _Refused(400, "page_token is not one this server issued") from None
        expected = hmac.digest(self._token_key, payload, hashlib.sha256)
        if not hmac.compare_digest(signature, expected):
            raise _Refused(400, "page_token is not one this server issued")
        query = json.loads(payload)
        if time.time() > query["issued"] + self.faults.token_ttl_s:
            raise _Refused(400, "page_token expired: start the pull again")
        return query


def bearer_token(token: str) -> Callable[[Message], bool]:
    expected = f"Bearer {token}".encode()
    return lambda headers: hmac.compare_digest(
        (headers.get("Authorization") or "").encode(), expected
    )


def api_key(key: str, header: str = "X-Api-Key") -> Callable[[Message], bool]:
    expected = key.encode()
    return lambda headers: hmac.compare_digest((headers.get(header) or "").encode(), expected)


def _partitioned(endpoint: Endpoint) -> dict[str, RecordLog]:
    if endpoint.partition_by is None:
        log = RecordLog(endpoint.id_field)
        log.load(endpoint.records)
        return {"": log}
    groups: dict[str, list[dict]] = {}
    for record in endpoint.records:
        groups.setdefault(record[endpoint.partition_by], []).append(record)
    logs = {}
    for partition, records in groups.items():
        logs[partition] = RecordLog(endpoint.id_field)
        logs[partition].load(records)
    return logs


def _parse_since(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _Refused(
            400, "updated_since must be ISO 8601 with a UTC offset, e.g. "
            "2026-11-21T01:00:00+08:00 (send '+' as %2B)"
        )
    return moment.timestamp()


# One encoder for all: json.dumps with options builds a new one per call, which is most
# of the cost of serialising half a million records at start-up.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value) -> bytes:
    return _ENCODER.encode(value).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
