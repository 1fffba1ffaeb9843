"""Telling the data engineers when a night fails or runs late.

A task that has failed for good is reported on the channel of the
`wageguard_alerts` Airflow connection (a night not published by 07:00
Asia/Shanghai fails the watchdog DAG's task, so it is reported the same way):
- conn_type smtp: an e-mail through that server (host, port, login, password;
  extra {"from": ..., "to": "a@x, b@y"}), sent with the delivery mailer;
- conn_type http: a JSON POST to a webhook (schema, host, port, extra
  {"path": ...}; a token goes in `password` and is sent as a bearer token).
`task_failed` is the callback the DAGs hand Airflow; the rest is plain Python."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from wageguard.delivery.settings import from_connection as smtp_settings
from wageguard.plan import DAG_ID, DEADLINE, TIMEZONE
from wageguard.sources.config import ConnectionLike, SourceConfig, connection_extra

log = logging.getLogger(__name__)

ALERT_CONNECTION = "wageguard_alerts"
WEBHOOK_TIMEOUT_SECONDS = 15


class AlertNotSent(RuntimeError):
    pass


@dataclass(frozen=True)
class Alert:
    subject: str
    body: str
    dag_id: str
    run_id: str

    def as_json(self) -> dict:
        # "text" is what chat webhooks (WeCom, DingTalk, Slack) show.
        return {"text": f"{self.subject}\n{self.body}", "subject": self.subject,
                "body": self.body, "dag_id": self.dag_id, "run_id": self.run_id}


def _local(moment) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m-%d %H:%M %Z")


def failure_alert(context: dict) -> Alert:
    """From the context Airflow gives a task's failure callback."""
    ti = context["ti"]
    run = context["dag_run"]
    task = ti.task_id if getattr(ti, "map_index", -1) in (-1, None) else (
        f"{ti.task_id}[{ti.map_index}]")
    error = context.get("exception")
    return Alert(
        subject=f"[wageguard] {run.dag_id}: task {task} failed ({run.run_id})",
        body=(f"Run {run.run_id}, scheduled for {_local(run.logical_date)}: task {task} "
              f"failed on try {getattr(ti, 'try_number', '?')} and will not be retried.\n"
              f"Error: {type(error).__name__ + ': ' + str(error) if error else 'unknown'}\n"
              "The task's log in the Airflow UI says what happened; the README's "
              "'When things go wrong' says what to do. Re-run the night once it is fixed."),
        dag_id=run.dag_id, run_id=run.run_id,
    )


class NightLate(RuntimeError):
    pass


def check_published(run_date: dt.date, published_at: str | None) -> str:
    """The watchdog's verdict on night D at the deadline."""
    if published_at is None:
        raise NightLate(
            f"night {run_date} was not published by {DEADLINE:%H:%M} {TIMEZONE}: the "
            f"inspectors' lists are late. Look at the {DAG_ID} run of {run_date} in the "
            "Airflow UI (still running, failed, or never started?) and re-run it.")
    return published_at


def _recipients(extra: dict) -> list[str]:
    found = [a.strip() for a in str(extra.get("to", "")).split(",") if a.strip()]
    if not found:
        raise AlertNotSent(f'the {ALERT_CONNECTION} connection names no recipients: put them '
                           'in extra {"to": "engineer@example.gov.cn"}')
    return found


def _email(conn: ConnectionLike, alert: Alert) -> None:
    from wageguard.delivery.mailer import send

    settings = smtp_settings(conn)
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(_recipients(connection_extra(conn)))
    message["Subject"] = alert.subject
    message.set_content(alert.body)
    outcome = send(settings, message)
    if not outcome.sent:
        raise AlertNotSent(f"alert e-mail not sent after {outcome.attempts} attempts: "
                           f"{outcome.error}")


def _webhook(conn: ConnectionLike, alert: Alert) -> None:
    import requests

    extra = connection_extra(conn)
    scheme = conn.schema or "https"
    port = f":{conn.port}" if conn.port else ""
    target = SourceConfig(f"{scheme}://{conn.host}{port}{extra.get('path', '')}",
                          secret=conn.password or None,
                          allow_plain_http=bool(extra.get("allow_plain_http", False)))
    target.check_transport()
    headers = {"Authorization": f"Bearer {target.secret}"} if target.secret else {}
    answer = requests.post(target.location, json=alert.as_json(), headers=headers,
                           timeout=WEBHOOK_TIMEOUT_SECONDS)
    if not answer.ok:
        raise AlertNotSent(f"the alert webhook answered {answer.status_code}: "
                           f"{answer.text[:200]}")


def send_alert(conn: ConnectionLike, alert: Alert) -> None:
    kind = (conn.conn_type or "").lower()
    if kind in ("smtp", "email"):
        _email(conn, alert)
    elif kind in ("http", "https"):
        _webhook(conn, alert)
    else:
        raise AlertNotSent(f"the {ALERT_CONNECTION} connection is of type {kind!r}: use "
                           "smtp (e-mail) or http (webhook)")
    log.info("alert sent through %s: %s", ALERT_CONNECTION, alert.subject)


def _send_through_connection(alert: Alert) -> None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(ALERT_CONNECTION)
    except AirflowNotFoundException:
        log.error("no %s connection, so nobody was told: %s", ALERT_CONNECTION, alert.subject)
        return
    send_alert(conn, alert)


def task_failed(context: dict) -> None:
    """Airflow's on_failure_callback: runs once a task has no retries left."""
    _send_through_connection(failure_alert(context))
