"""Telling the data engineers when a night fails or runs late.

A task that has failed for good is reported on the channel of the
`wageguard_alerts` Airflow connection, through the notifier of Airflow's
provider for it (a night not published by 07:00 Asia/Shanghai fails the
watchdog DAG's task, so it is reported the same way):
- conn_type smtp: an e-mail, by the smtp provider's SmtpNotifier. The
  connection is that provider's (host, port, login, password; extra
  from_email, disable_ssl, disable_tls, timeout, retry_limit), with the
  recipients in extra {"to": "a@x, b@y"};
- conn_type http: a JSON POST to a webhook, by the http provider's
  HttpNotifier, to the URL in host (or schema, host and port). A token in
  `password` (no login) is sent as a bearer token, and only over https or to
  this machine.
`task_failed` is the callback the DAGs hand Airflow (through `task_defaults`).
It calls the notifiers' `notify`, not the notifiers themselves, which would
render the alert's text (it quotes errors) as a Jinja template."""

from __future__ import annotations

import datetime as dt
import html
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

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
    # A mapped task by its name (map_index_template: the feed), else its index.
    label = getattr(ti, "rendered_map_index", None) or getattr(ti, "map_index", -1)
    task = ti.task_id if label in (-1, None) else f"{ti.task_id}[{label}]"
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
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    # The body is text: shown as it is written, whatever it quotes from an error.
    body = f'<pre style="white-space: pre-wrap">{html.escape(alert.body)}</pre>'
    SmtpNotifier(smtp_conn_id=ALERT_CONNECTION, to=_recipients(connection_extra(conn)),
                 subject=alert.subject, html_content=body).notify({})


def _webhook(conn: ConnectionLike, alert: Alert) -> None:
    from airflow.providers.http.notifications.http import HttpNotifier
    from airflow.sdk.exceptions import AirflowException

    token = conn.password if conn.password and not conn.login else None
    notifier = HttpNotifier(
        http_conn_id=ALERT_CONNECTION, json=alert.as_json(),
        headers={"Authorization": f"Bearer {token}"} if token else None,
        extra_options={"timeout": WEBHOOK_TIMEOUT_SECONDS})
    SourceConfig(notifier.hook.url_from_endpoint(None), secret=conn.password or None
                 ).check_transport()
    try:
        notifier.notify({})
    except AirflowException as refused:  # the http provider's word for a status >= 400
        raise AlertNotSent(f"the alert webhook answered {refused}") from refused


def send_alert(alert: Alert) -> None:
    """Sends `alert` on the wageguard_alerts channel; without one, logs it."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(ALERT_CONNECTION)
    except AirflowNotFoundException:
        log.error("no %s connection, so nobody was told: %s", ALERT_CONNECTION, alert.subject)
        return
    kind = (conn.conn_type or "").lower()
    if kind in ("smtp", "email"):
        _email(conn, alert)
    elif kind in ("http", "https"):
        _webhook(conn, alert)
    else:
        raise AlertNotSent(f"the {ALERT_CONNECTION} connection is of type {kind!r}: use "
                           "smtp (e-mail) or http (webhook)")
    log.info("alert sent through %s: %s", ALERT_CONNECTION, alert.subject)


def task_failed(context: dict) -> None:
    """Airflow's on_failure_callback: runs once a task has no retries left, or
    at once when it failed for a reason no retry can cure."""
    send_alert(failure_alert(context))


def task_defaults(retries: int, retry_delay: dt.timedelta,
                  execution_timeout: dt.timedelta) -> dict:
    """default_args of every wageguard DAG: its owner, its retries, how long a
    task may hang before it is failed (a stuck pull must not hold the night past
    the inspectors' morning), and the alert to the engineers once a task has no
    retries left (a failure no retry can cure leaves none: wageguard.task_errors)."""
    return {"owner": "wageguard", "retries": retries, "retry_delay": retry_delay,
            "execution_timeout": execution_timeout, "on_failure_callback": task_failed}
