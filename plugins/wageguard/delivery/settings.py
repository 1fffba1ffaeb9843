"""How to reach the mail server that carries the district lists, built from an
Airflow-style smtp connection (host, port, login, password, extra {"from",
"starttls"}) without importing Airflow."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from types import SimpleNamespace

from wageguard.sources.config import ConnectionLike, connection_extra

SMTP_CONNECTION = "wageguard_smtp"
SMTP_CONNECTION_ENV = "AIRFLOW_CONN_WAGEGUARD_SMTP"  # the same connection, Airflow's JSON form


@dataclass(frozen=True)
class SmtpSettings:
    """`password` is kept out of repr so it never reaches a log line. A refused
    or unreachable server is tried `attempts` times, waiting
    `retry_delay_seconds` and then twice as long after each failure."""

    host: str
    port: int
    sender: str
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    ssl: bool = False  # implicit TLS from the first byte (SMTPS, usually port 465)
    timeout_seconds: float = 30.0
    attempts: int = 3
    retry_delay_seconds: float = 5.0

    def __post_init__(self):
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")


def _flag(value) -> bool:
    # A value typed into Airflow's UI arrives as text.
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def from_connection(conn: ConnectionLike) -> SmtpSettings:
    extra = connection_extra(conn)
    if not conn.host:
        raise ValueError(f"the {SMTP_CONNECTION} connection has no host: give the mail server")
    sender = extra.get("from") or conn.login
    if not sender or "@" not in sender:
        raise ValueError(f'the {SMTP_CONNECTION} connection has no sender address: put it in '
                         'extra {"from": "wageguard@example.gov.cn"}')
    implicit_tls = _flag(extra.get("ssl", False))
    return SmtpSettings(
        host=conn.host,
        port=int(conn.port or (465 if implicit_tls else 587)),
        sender=sender,
        login=conn.login or None,
        password=conn.password or None,
        starttls=_flag(extra.get("starttls", not implicit_tls)),
        ssl=implicit_tls,
        attempts=int(extra.get("attempts", 3)),
        retry_delay_seconds=float(extra.get("retry_delay_seconds", 5.0)),
    )


def from_environment() -> SmtpSettings:
    """The connection as Airflow reads it from the environment, for commands run
    outside Airflow."""
    raw = os.environ.get(SMTP_CONNECTION_ENV)
    if not raw:
        raise LookupError(f"{SMTP_CONNECTION_ENV} is not set: give the {SMTP_CONNECTION} "
                          "connection in Airflow's JSON form (README: Delivery to inspectors)")
    spec = json.loads(raw)
    extra = spec.get("extra") or {}
    return from_connection(SimpleNamespace(
        conn_type=spec.get("conn_type"), host=spec.get("host"), port=spec.get("port"),
        schema=spec.get("schema"), login=spec.get("login"), password=spec.get("password"),
        extra_dejson=json.loads(extra) if isinstance(extra, str) else extra,
    ))
