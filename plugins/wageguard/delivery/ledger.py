"""The delivery ledger (table `delivery`): one row per night, district and
recipient, saying how its last try went. Each send is recorded as soon as it
is done, so a run that dies half-way sends only the rest when run again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from wageguard.delivery.mailer import SendOutcome
from wageguard.landing.store import now_text
from wageguard.warehouse.sqlfiles import execute_many

NO_RECIPIENT = "no_recipient"

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


def already_sent(conn: Connection, run_date: dt.date) -> set[tuple[str, str]]:
    """(district, recipient) of night D that went out."""
    rows = conn.execute(
        text("SELECT district_code, recipient FROM delivery "
             "WHERE run_date = :d AND status = 'sent'"), {"d": run_date})
    return {(r.district_code, r.recipient) for r in rows}


def record_send(conn: Connection, run_date: dt.date, district_code: str, recipient: str,
                outcome: SendOutcome, message_id: str, attachment_sha256: str) -> None:
    now = now_text()
    conn.execute(_UPSERT, {
        "d": run_date, "district": district_code, "recipient": recipient,
        "status": "sent" if outcome.sent else "failed", "attempts": outcome.attempts,
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

