"""The delivery ledger (table `delivery`): one row per night, district and
recipient, saying how its last try went. Each message is recorded as `sending`
before it goes out and with its outcome as soon as it is done, so a run that
dies half-way sends only the rest when run again, and a message it may or may
not have sent (still `sending`) is known as such."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Row, text

from wageguard.db.sqlfiles import execute_many
from wageguard.delivery.mailer import SendOutcome
from wageguard.landing.store import now_text

NO_RECIPIENT = "no_recipient"
SENDING, SENT, FAILED = "sending", "sent", "failed"

_UPSERT = text("""
INSERT INTO delivery (run_date, district_code, recipient, status, attempts, last_error,
                      sent_at, message_id, attachment_sha256, updated_at)
VALUES (:d, :district, :recipient, :status, :attempts, :error, :sent_at, :message_id,
        :sha256, :now)
ON CONFLICT (run_date, district_code, recipient) DO UPDATE SET
    status = excluded.status,
    attempts = delivery.attempts + excluded.attempts,
    last_error = excluded.last_error,
    sent_at = COALESCE(excluded.sent_at, delivery.sent_at),
    message_id = excluded.message_id,
    attachment_sha256 = excluded.attachment_sha256,
    updated_at = excluded.updated_at
""")


def entries(conn: Connection, run_date: dt.date) -> dict[tuple[str, str], Row]:
    """Night D's (district, recipient) with their status, message_id and
    updated_at."""
    rows = conn.execute(
        text("SELECT district_code, recipient, status, message_id, updated_at FROM delivery "
             "WHERE run_date = :d AND status <> :s"), {"d": run_date, "s": NO_RECIPIENT})
    return {(r.district_code, r.recipient): r for r in rows}


def record_sending(conn: Connection, run_date: dt.date, district_code: str, recipient: str,
                   message_id: str, attachment_sha256: str) -> None:
    """Before the message goes out: should the run die before record_send, the
    next one knows it may have gone out."""
    conn.execute(_UPSERT, {
        "d": run_date, "district": district_code, "recipient": recipient,
        "status": SENDING, "attempts": 0, "error": None, "sent_at": None,
        "message_id": message_id, "sha256": attachment_sha256, "now": now_text(),
    })


def record_send(conn: Connection, run_date: dt.date, district_code: str, recipient: str,
                outcome: SendOutcome, message_id: str, attachment_sha256: str) -> None:
    now = now_text()
    conn.execute(_UPSERT, {
        "d": run_date, "district": district_code, "recipient": recipient,
        "status": SENT if outcome.sent else FAILED, "attempts": outcome.attempts,
        "error": outcome.error, "sent_at": now if outcome.sent else None,
        "message_id": message_id, "sha256": attachment_sha256, "now": now,
    })


def record_no_recipient(conn: Connection, run_date: dt.date,
                        districts: dict[str, tuple[str, int]]) -> None:
    """Replaces night D's districts that had nobody on the roster (district ->
    (workbook sha256, flags listed)): a roster fixed since is no longer one."""
    conn.execute(text("DELETE FROM delivery WHERE run_date = :d AND status = :s"),
                 {"d": run_date, "s": NO_RECIPIENT})
    now = now_text()
    execute_many(conn, _UPSERT, [
        {"d": run_date, "district": district, "recipient": "", "status": NO_RECIPIENT,
         "attempts": 0, "error": f"nobody on the roster for this district; {flags} flags "
                                 "not delivered",
         "sent_at": None, "message_id": None, "sha256": sha256, "now": now}
        for district, (sha256, flags) in sorted(districts.items())
    ])

