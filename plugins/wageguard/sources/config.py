"""Where a source system is and how to log in, built from an Airflow-style
connection (conn_type, host, port, schema, login, password, extra) without
importing Airflow, so the package stays usable from tests and the command line."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit


class ConnectionLike(Protocol):
    conn_type: str | None
    host: str | None
    port: int | None
    schema: str | None
    login: str | None
    password: str | None


class InsecureSourceError(ValueError):
    pass


@dataclass(frozen=True)
class PullLimits:
    """Bounds on one pull of a paged API, so that a misbehaving source fails its
    task instead of filling the disk or holding the night for hours. Each is far
    above what the contracts promise (a page holds at most 5000 records, a few
    MiB) and can be raised in the connection's extra (LIMIT_EXTRAS)."""

    page_bytes: int = 64 << 20
    pages: int = 100_000
    # urllib3 would honour a Retry-After of up to 6 h, on each of the retries.
    retry_after_s: int = 300

    @classmethod
    def from_extra(cls, extra: dict) -> PullLimits:
        given = {}
        for name, (key, unit) in LIMIT_EXTRAS.items():
            if key in extra:
                value = extra[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"the connection extra {key!r} must be a whole number "
                                     f"of at least 1, not {value!r}")
                given[name] = value * unit
        return cls(**given)


# PullLimits field -> (connection extra key, what one unit of it is).
LIMIT_EXTRAS = {
    "page_bytes": ("max_page_mib", 1 << 20),
    "pages": ("max_pages", 1),
    "retry_after_s": ("max_retry_after_s", 1),
}


@dataclass(frozen=True)
class SourceConfig:
    """A source location. `secret` is the token, API key or Basic password; it is
    kept out of repr so it never reaches a log line."""

    location: str  # base URL, or a folder path for the file exchange
    login: str | None = None
    secret: str | None = field(default=None, repr=False)
    allow_plain_http: bool = False
    limits: PullLimits = field(default_factory=PullLimits)

    @property
    def is_http(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    def check_transport(self) -> None:
        """Refuse to send credentials in clear text to anything but this machine."""
        if not (self.is_http and self.secret):
            return
        parts = urlsplit(self.location)
        if parts.scheme == "https" or self.allow_plain_http:
            return
        host = parts.hostname or ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise InsecureSourceError(
                f"refusing to send credentials over plain HTTP to {host}: use https, "
                'or set "allow_plain_http": true in the connection extra if the link is '
                "otherwise protected"
            )


def connection_extra(conn: Any) -> dict:
    extra = getattr(conn, "extra_dejson", None)
    if extra is not None:
        return dict(extra)
    raw = getattr(conn, "extra", None)
    return json.loads(raw) if raw else {}


def from_connection(conn: ConnectionLike) -> SourceConfig:
    extra = connection_extra(conn)
    allow_plain = bool(extra.get("allow_plain_http", False))
    if extra.get("path"):
        return SourceConfig(location=str(extra["path"]))
    if not conn.host:
        raise ValueError(
            "the connection has neither a host nor an extra 'path': give the source's "
            "host and port, or a folder in extra {\"path\": ...}"
        )
    host = conn.host
    if "://" in host:  # a full URL typed into the host field
        base = host.rstrip("/")
    else:
        scheme = conn.schema or "https"
        port = f":{conn.port}" if conn.port else ""
        base = f"{scheme}://{host}{port}"
    config = SourceConfig(
        location=base, login=conn.login, secret=conn.password, allow_plain_http=allow_plain,
        limits=PullLimits.from_extra(extra),
    )
    config.check_transport()
    return config
