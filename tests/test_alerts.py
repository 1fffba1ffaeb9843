"""Alerts to the data engineers: a task failed for good (the deadline watchdog's
included, when night D is not published by 07:00) reaches them by e-mail (a
real local SMTP server) or by webhook (a real local HTTP server) through
Airflow's notifiers, on the wageguard_alerts connection."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from wageguard.alerts import (
    ALERT_CONNECTION,
    AlertNotSent,
    NightLate,
    check_published,
    failure_alert,
    send_alert,
    task_failed,
)
from wageguard.sources.config import InsecureSourceError

TOKEN = "hook-t0ken-42"
CONNECTION_ENV = f"AIRFLOW_CONN_{ALERT_CONNECTION.upper()}"


def _failure_context():
    started = dt.datetime(2026, 11, 21, 17, 0, tzinfo=dt.UTC)  # 01:00 in Shanghai
    return {
        "ti": SimpleNamespace(task_id="ingest_feed", map_index=3, try_number=3),
        "dag_run": SimpleNamespace(dag_id="wageguard_nightly", run_id="scheduled__2026-11-22",
                                   logical_date=started),
        "exception": ConnectionError("housing API unreachable"),
    }


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), json.loads(body)))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def channel(monkeypatch, airflow_env):
    """Sets the wageguard_alerts connection, in Airflow's JSON form."""
    return lambda **conn: monkeypatch.setenv(CONNECTION_ENV, json.dumps(conn))


def _hook(server) -> dict:
    return {"conn_type": "http", "host": f"http://127.0.0.1:{server.server_port}/alerts",
            "password": TOKEN}


def _mail(server, **extra) -> dict:
    return {"conn_type": "smtp", "host": "127.0.0.1", "port": server.port,
            "extra": {"from_email": "wageguard@rsj.example", "disable_ssl": True,
                      "disable_tls": True, **extra}}


def test_a_failed_task_is_mailed_to_every_engineer(mail_server, channel):
    channel(**_mail(mail_server, to="ops@rsj.example, oncall@rsj.example"))
    send_alert(failure_alert(_failure_context()))
    ((recipients, message, _),) = mail_server.received
    assert sorted(recipients) == ["oncall@rsj.example", "ops@rsj.example"]
    assert message["From"] == "wageguard@rsj.example"
    assert message["Subject"].strip() == (
        "[wageguard] wageguard_nightly: task ingest_feed[3] failed (scheduled__2026-11-22)")
    body = message.get_body(("html",)).get_content()
    assert "2026-11-22 01:00 CST" in body and "try 3" in body
    assert "ConnectionError: housing API unreachable" in body


def test_a_mapped_task_is_named_by_its_feed():
    context = _failure_context()
    context["ti"].rendered_map_index = "credit_enterprises"
    assert "task ingest_feed[credit_enterprises] failed" in failure_alert(context).subject


def test_the_mail_shows_the_error_as_text_not_markup(mail_server, channel):
    channel(**_mail(mail_server, to="ops@rsj.example"))
    context = _failure_context()
    context["exception"] = ValueError("<script>x</script> {{ ti.xcom_pull() }}")
    send_alert(failure_alert(context))
    ((_, message, _),) = mail_server.received
    body = message.get_body(("html",)).get_content()
    assert "&lt;script&gt;x&lt;/script&gt; {{ ti.xcom_pull() }}" in body


def test_a_failure_is_posted_to_the_webhook_with_its_token(webhook, channel):
    channel(**_hook(webhook))
    send_alert(failure_alert(_failure_context()))
    ((headers, payload),) = webhook.received
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert payload["subject"].startswith(
        "[wageguard] wageguard_nightly: task ingest_feed[3] failed")
    assert "housing API unreachable" in payload["text"]
    assert payload["run_id"] == "scheduled__2026-11-22"


def test_a_webhook_that_refuses_is_an_error_not_silence(webhook, channel):
    webhook.status = 500
    channel(**_hook(webhook))
    with pytest.raises(AlertNotSent, match="answered 500"):
        send_alert(failure_alert(_failure_context()))


def test_no_token_goes_over_plain_http_to_another_host(channel):
    channel(conn_type="http", host="hooks.example.org", port=80, schema="http",
            password=TOKEN)
    with pytest.raises(InsecureSourceError, match="plain HTTP"):
        send_alert(failure_alert(_failure_context()))


def test_an_smtp_channel_without_recipients_says_what_to_add(mail_server, channel):
    channel(**_mail(mail_server))
    with pytest.raises(AlertNotSent, match='"to"'):
        send_alert(failure_alert(_failure_context()))
    assert mail_server.received == []


def test_the_callback_finds_the_channel_in_airflows_connections(webhook, channel):
    channel(**_hook(webhook))
    task_failed(_failure_context())
    ((_, payload),) = webhook.received
    assert "task ingest_feed[3] failed" in payload["subject"]


def test_without_a_channel_the_callback_logs_instead_of_failing(monkeypatch, caplog,
                                                                airflow_env):
    monkeypatch.delenv(CONNECTION_ENV, raising=False)
    task_failed(_failure_context())
    assert "nobody was told" in caplog.text


def test_the_watchdog_passes_a_published_night_and_fails_a_missing_one(monkeypatch, tmp_path):
    from wageguard import pipeline

    night = dt.date(2026, 11, 22)
    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    with pytest.raises(NightLate, match="night 2026-11-22 was not published by 07:00"):
        check_published(night, pipeline.published_at(night))
    with pipeline.engine().begin() as conn:
        conn.execute(text(
            "INSERT INTO night (run_date, knowledge_cutoff, bundle_day, params, "
            "first_published_at, last_published_at) VALUES (:d, :t, NULL, '{}', :t, :t)"),
            {"d": night, "t": "2026-11-22T01:12:00+08:00"})
    assert check_published(night, pipeline.published_at(night)) == "2026-11-22T01:12:00+08:00"
