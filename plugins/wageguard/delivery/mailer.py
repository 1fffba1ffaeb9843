"""Sending one message over SMTP, trying again (bounded, with back-off) when
the server says it may work later or cannot be reached."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage

from wageguard.delivery.settings import SmtpSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendOutcome:
    sent: bool
    attempts: int
    error: str | None = None  # the reason of the last failed attempt


def _text(raw) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def reason(exc: Exception) -> str:
    """The server's own words where it gave some."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{address} refused: {code} {_text(said)}"
                         for address, (code, said) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def transient(exc: Exception) -> bool:
    """4xx replies and a server out of reach may pass; 5xx replies, a failed
    TLS handshake or a missing STARTTLS will not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, (smtplib.SMTPException, ssl.SSLError)):
        return False
    return isinstance(exc, OSError)


def _send_once(settings: SmtpSettings, message: EmailMessage) -> None:
    tls = ssl.create_default_context()
    server: smtplib.SMTP
    if settings.ssl:
        server = smtplib.SMTP_SSL(settings.host, settings.port,
                                  timeout=settings.timeout_seconds, context=tls)
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    with server:
        if settings.starttls and not settings.ssl:
            server.starttls(context=tls)
        if settings.login:
            server.login(settings.login, settings.password or "")
        refused = server.send_message(message)
    if refused:  # some of several recipients; ours are one a message
        raise smtplib.SMTPRecipientsRefused(refused)


def send(settings: SmtpSettings, message: EmailMessage) -> SendOutcome:
    attempt, delay = 1, settings.retry_delay_seconds
    while True:
        try:
            _send_once(settings, message)
            return SendOutcome(sent=True, attempts=attempt)
        except (smtplib.SMTPException, OSError) as exc:
            why = reason(exc)
            if not transient(exc) or attempt >= settings.attempts:
                return SendOutcome(sent=False, attempts=attempt, error=why)
            log.warning("sending to %s through %s:%d failed (attempt %d of %d): %s; "
                        "trying again in %.1f s", message["To"], settings.host, settings.port,
                        attempt, settings.attempts, why, delay)
            time.sleep(delay)
            attempt, delay = attempt + 1, delay * 2
