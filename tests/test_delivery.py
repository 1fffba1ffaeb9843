"""E-mailing the district lists: a small world's night is run once, then each
test delivers it through a real local SMTP server (aiosmtpd) into a fresh
warehouse on each backend, and reads what the server received."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import io
import json
import re
import signal
import subprocess
import sys
import threading
from collections import Counter

import openpyxl
import pytest
from conftest import Recorder, serve_mail
from sqlalchemy import text
from wageguard.delivery.deliver import DeliveryIncomplete, deliver_night
from wageguard.delivery.roster import ROSTER_ENV, RosterError, load_roster
from wageguard.delivery.settings import SMTP_CONNECTION_ENV, SmtpSettings, from_connection
from wageguard.warehouse.engine import make_engine
from wageguard.warehouse.migrate import migrate
from wageguard_dev.demo.roster import write_demo_roster

SECRET = "smtp-pa55word"
D = dt.date(2026, 11, 21)


def _settings(port: int) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, sender="wageguard@rsj.example",
                        login=None, password=SECRET, starttls=False, timeout_seconds=5,
                        attempts=3, retry_delay_seconds=0.01)


@pytest.fixture(scope="module")
def night(small_world, tmp_path_factory):
    """The small world's night D, published once on the embedded warehouse."""
    from conftest import run_night_in_process
    from wageguard_dev.demo.sources import running_sources

    base = tmp_path_factory.mktemp("delivery")
    with pytest.MonkeyPatch.context() as env, running_sources(
            small_world, workdir=base / "sources", ports=0,
            clock=lambda: small_world.as_of) as running:
        env.setenv("WAGEGUARD_HOME", str(base))
        env.setenv("WAGEGUARD_WAREHOUSE_URL", f"sqlite:///{base / 'night.db'}")
        env.setenv("WAGEGUARD_OUTPUT_DIR", str(base / "out"))
        run_night_in_process(small_world.run_date, running)
    return base / "out" / small_world.run_date.isoformat()


@pytest.fixture
def roster_file(tmp_path):
    path = tmp_path / "roster.csv"
    left_off = write_demo_roster(path)
    return path, left_off.code


def _listed(night) -> dict[str, dict[str, int]]:
    """Per district, its listed flags as flags.csv tells them."""
    counts: dict[str, Counter] = {}
    with (night / "flags.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["status"] == "open":
                c = counts.setdefault(row["district_code"], Counter())
                c["listed"] += 1
                c["new"] += row["new"] == "true"
                c["overdue"] += row["overdue"] == "true"
                c["red"] += row["severity"] == "red"
    return counts


def _ledger(engine, run_date) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM delivery WHERE run_date = :d"),
                            {"d": run_date}).mappings()
        return {(r["district_code"], r["recipient"]): dict(r) for r in rows}


def _district_column(workbook: bytes) -> list[str]:
    """The district code of every row of the workbook's flag sheet."""
    sheet = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)["预警清单"]
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("行政区划代码")
    return [row[column] for row in rows[1:]]


def test_each_district_gets_its_own_workbook_with_its_counts(
        night, small_world, mail_server, roster_file, engine, caplog):
    path, left_off = roster_file
    roster = load_roster(path)
    listed = _listed(night)
    assert left_off in listed, "the district left off the roster must have flags"
    result = deliver_night(engine, night, small_world.run_date, roster,
                           _settings(mail_server.port))

    workbooks = {p.stem for p in (night / "lists").glob("*.xlsx")}
    assert set(listed) <= workbooks
    got = {}
    for recipients, message, _ in mail_server.received:
        assert len(recipients) == 1
        (attachment,) = message.iter_attachments()
        district = attachment.get_filename().split("_")[0]
        got[(district, recipients[0])] = (message, attachment.get_content())
    assert set(got) == {(d, i.email) for d in workbooks & set(roster)
                        for i in roster[d].inspectors}
    assert {r["recipient"] for r in result.sent} == {email for _, email in got}
    ledger = _ledger(engine, small_world.run_date)
    for (district, email), (message, workbook) in got.items():
        assert workbook == (night / "lists" / f"{district}.xlsx").read_bytes()
        c = listed.get(district, Counter())
        assert _district_column(workbook) == [district] * c["listed"]
        numbers = re.search(r"新增(\d+)条 超期(\d+)条 红色(\d+)条", message["Subject"])
        assert tuple(map(int, numbers.groups())) == (c["new"], c["overdue"], c["red"])
        assert small_world.run_date.isoformat() in message["Subject"]
        assert district in message["Subject"]
        text_body = message.get_body(("plain",)).get_content()
        assert f"在办预警：{c['listed']} 条" in text_body
        assert f"红色预警：{c['red']} 条" in text_body
        assert message["To"].addresses[0].addr_spec == email
        row = ledger[(district, email)]
        assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 1, None)
        assert row["message_id"] == message["Message-ID"]
        assert row["attachment_sha256"] == hashlib.sha256(workbook).hexdigest()

    assert result.no_recipient == [{"district_code": left_off, "flags": listed[left_off]["listed"]}]
    assert ledger[(left_off, "")]["status"] == "no_recipient"
    assert not result.complete
    assert any(r.levelname == "ERROR" and left_off in r.getMessage() for r in caplog.records)
    with pytest.raises(DeliveryIncomplete, match=f"{left_off}: .*nobody on the roster"):
        result.raise_if_incomplete()


def test_a_rerun_sends_nothing_again_unless_asked(
        night, small_world, mail_server, roster_file, engine):
    roster = load_roster(roster_file[0])
    settings = _settings(mail_server.port)
    first = deliver_night(engine, night, small_world.run_date, roster, settings)
    sent = len(mail_server.received)
    assert sent == len(first.sent) > 0

    again = deliver_night(engine, night, small_world.run_date, roster, settings)
    assert (again.sent, again.already_sent) == ([], sent)
    assert len(mail_server.received) == sent

    resent = deliver_night(engine, night, small_world.run_date, roster, settings, resend=True)
    assert len(resent.sent) == sent and len(mail_server.received) == 2 * sent
    ledger = _ledger(engine, small_world.run_date)
    assert {row["attempts"] for key, row in ledger.items() if key[1]} == {2}


def test_a_refusing_server_is_retried_recorded_and_raised(
        night, small_world, mail_server, roster_file, engine, warehouse_url, monkeypatch):
    """Through the pipeline stage, as the DAG's task runs it."""
    from wageguard import pipeline

    path, left_off = roster_file
    roster = load_roster(path)
    busy, unknown = (i.email for d in sorted(roster)[:2] for i in roster[d].inspectors[:1])
    mail_server.replies = {busy: "451 4.3.2 mailbox busy, try again later",
                           unknown: "550 5.1.1 no such mailbox"}
    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(night.parent))
    monkeypatch.setenv(ROSTER_ENV, str(path))
    settings = _settings(mail_server.port)
    with pytest.raises(DeliveryIncomplete) as raised:
        pipeline.deliver(small_world.run_date, settings)
    message = str(raised.value)
    assert f"{busy}: not sent after 3 attempt(s)" in message and "451" in message
    assert f"{unknown}: not sent after 1 attempt(s)" in message and "550" in message
    assert f"{left_off}: " in message and SECRET not in message
    assert mail_server.rcpt_tries[busy] == 3, "a 4xx reply is tried again, up to attempts"
    assert mail_server.rcpt_tries[unknown] == 1, "a 5xx reply is final"
    ledger = _ledger(engine, small_world.run_date)
    failed = {key[1]: row for key, row in ledger.items() if row["status"] == "failed"}
    assert set(failed) == {busy, unknown}
    assert "451 4.3.2 mailbox busy" in failed[busy]["last_error"]
    assert failed[busy]["sent_at"] is None and failed[busy]["attempts"] == 3
    sent_before = len(mail_server.received)

    mail_server.replies = {}  # the mailbox is free again: a re-run sends only what failed
    with pytest.raises(DeliveryIncomplete, match=left_off) as again:
        pipeline.deliver(small_world.run_date, settings)
    assert busy not in str(again.value)
    assert sorted(rcpts[0] for rcpts, _, _ in mail_server.received[sent_before:]) == sorted(
        [busy, unknown])
    row = _ledger(engine, small_world.run_date)[(min(roster), busy)]
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 4, None)


def test_a_server_that_is_down_is_tried_again_then_reported(
        night, small_world, roster_file, tmp_path, caplog, free_tcp_port):
    eng = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(eng)
    roster = load_roster(roster_file[0])
    one = next(iter(sorted(roster)))
    result = deliver_night(eng, night, small_world.run_date, {one: roster[one]},
                           _settings(free_tcp_port))
    assert result.sent == []
    assert {f["attempts"] for f in result.failed} == {3}
    assert all("ConnectionRefusedError" in f["error"] for f in result.failed)
    retries = [r for r in caplog.records if "trying again" in r.getMessage()]
    assert len(retries) == 2 * len(result.failed)
    assert SECRET not in caplog.text and SECRET not in repr(_settings(1))
    assert {row["status"] for row in _ledger(eng, small_world.run_date).values()} == {
        "failed", "no_recipient"}


def test_the_deliver_command_sends_with_the_connection_from_the_environment(
        night, small_world, mail_server, roster_file, tmp_path, monkeypatch, capsys):
    from wageguard.cli import main

    path, left_off = roster_file
    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(night.parent))
    monkeypatch.setenv(ROSTER_ENV, str(path))
    monkeypatch.setenv(SMTP_CONNECTION_ENV, json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": mail_server.port,
        "extra": {"from": "wageguard@rsj.example", "starttls": False,
                  "retry_delay_seconds": 0.01}}))
    date = small_world.run_date.isoformat()
    assert main(["deliver", "--date", date]) == 1
    assert f"{left_off}: " in capsys.readouterr().err
    sent = len(mail_server.received)
    assert sent > 0

    roster = path.read_text(encoding="utf-8")
    path.write_text(roster + f"{left_off},白云鄂博矿区,150200,包头市,李强,li@rsj.example\n",
                    encoding="utf-8")
    assert main(["deliver", "--date", date]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["complete"] and out["already_sent"] == sent
    assert [s["recipient"] for s in out["sent"]] == ["li@rsj.example"]
    assert len(mail_server.received) == sent + 1


def test_the_counts_are_those_of_the_listed_flags(tmp_path):
    """Tonight's small world has every flag new and none overdue; a flags.csv
    of several nights' kinds tells the counts apart."""
    from wageguard.delivery.deliver import district_counts
    from wageguard.delivery.message import DistrictCounts, body, subject
    from wageguard.delivery.roster import Inspector, RosterDistrict
    from wageguard.exports.flag_list import OpenFlag, write_flags_csv

    def flag(project, severity, *, days_open, new=False, status="open", district="150202"):
        return OpenFlag(
            project_id=project, rule="WA1", base_severity=severity, severity=severity,
            raised_on=D - dt.timedelta(days=days_open), days_open=days_open,
            overdue=days_open > 15, new=new, district_code=district, project_name="某项目",
            contractor_name=None, contractor_credit_code=None, builder_name=None,
            builder_credit_code=None, rule_version="1", status=status)

    write_flags_csv(tmp_path / "flags.csv", [
        flag("P1", "red", days_open=20),  # overdue red
        flag("P2", "orange", days_open=3),
        flag("P3", "yellow", days_open=0, new=True),
        flag("P4", "red", days_open=0, new=True),
        flag("P5", "red", days_open=30, status="exempted"),  # off the list
        flag("P6", "orange", days_open=16, status="false_positive"),
        flag("P7", "red", days_open=0, new=True, district="150203"),
    ])
    counts = district_counts(tmp_path / "flags.csv")
    assert counts == {"150202": DistrictCounts(listed=4, new=2, overdue=1, red=2),
                      "150203": DistrictCounts(listed=1, new=1, overdue=0, red=1)}
    district = RosterDistrict("150202", "东河区", "150200", "包头市", ())
    assert subject(district, D, counts["150202"]) == (
        "【欠薪预警】东河区（150202）2026-11-21 新增2条 超期1条 红色2条")
    text_body = body(Inspector("王芳", "w@rsj.example"), district, D, counts["150202"])
    for line in ("在办预警：4 条", "昨日以来新增：2 条", "超期（超过督办时限）：1 条",
                 "红色预警：2 条", "150202_2026-11-21.xlsx"):
        assert line in text_body


def test_roster_problems_are_reported_with_their_line_numbers(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        "district_code,district_name,city_code,city_name,inspector_name,email\n"
        "150202,东河区,150200,包头市,王芳,wangfang@rsj.example\n"
        "150200,包头市,150200,包头市,赵敏,zhao@rsj.example\n"
        "150203,昆都仑区,150200,包头市,刘洋,liu.yang(at)rsj.example\n"
        "150202,东河区,150900,乌兰察布市,张伟,zhang@rsj.example\n"
        "150202,东河区,150200,包头市,王芳,WangFang@rsj.example\n"
        "\n"
        "150204,青山区,150200\n"
        "150205,石拐区,1502,包头市,,a@rsj.example\n",
        encoding="utf-8")
    with pytest.raises(RosterError) as raised:
        load_roster(path)
    assert raised.value.problems == [
        "line 3: district_code '150200' is not a 6-digit county-level 行政区划代码 (e.g. 150202)",
        "line 4: email 'liu.yang(at)rsj.example' is not an e-mail address",
        ("line 5: district 150202 is 东河区 under 150900 乌兰察布市, but 东河区 under 150200 "
         "包头市 on line 2: a district has one name and one supervising city"),
        "line 6: duplicate of line 2: WangFang@rsj.example is already on the roster for 150202",
        ("line 8: 3 fields, expected 6 (district_code,district_name,city_code,city_name,"
         "inspector_name,email)"),
        "line 9: city_code '1502' is not a 6-digit city-level 行政区划代码 (e.g. 150200)",
        "line 9: inspector_name is empty",
    ]
    assert str(path) in str(raised.value)

    path.write_bytes(b"district_code,district_name\n")
    with pytest.raises(RosterError, match="line 1: the header must be district_code,"):
        load_roster(path)
    path.write_bytes(
        "district_code,district_name,city_code,city_name,inspector_name,email\n"
        "150202,东河区,150200,包头市,王芳,w@rsj.example\n".encode("gbk"))
    with pytest.raises(RosterError, match=r"not UTF-8 .*CSV UTF-8"):
        load_roster(path)
    with pytest.raises(RosterError, match=f"no such file.*{ROSTER_ENV}"):
        load_roster(tmp_path / "missing.csv")


def test_the_demo_roster_loads_and_leaves_one_district_off(roster_file):
    from wageguard_dev.demo.identifiers import DISTRICTS

    path, left_off = roster_file
    roster = load_roster(path)
    assert set(roster) == {d.code for d in DISTRICTS} - {left_off}
    assert roster["150202"].city_code == "150200" and roster["150202"].city_name == "包头市"
    assert all(1 <= len(d.inspectors) <= 2 for d in roster.values())


def test_settings_come_from_an_airflow_connection_without_the_password_in_repr():
    from airflow.sdk import Connection

    conn = Connection(conn_id="wageguard_smtp", conn_type="smtp", host="smtp.rsj.example",
                      port=587, login="wageguard", password=SECRET,
                      extra=json.dumps({"from": "欠薪预警 <wageguard@rsj.example>",
                                        "starttls": "true", "attempts": 4}))
    settings = from_connection(conn)
    assert (settings.host, settings.port, settings.login, settings.password) == (
        "smtp.rsj.example", 587, "wageguard", SECRET)
    assert settings.sender == "欠薪预警 <wageguard@rsj.example>"
    assert settings.starttls and not settings.ssl and settings.attempts == 4
    assert SECRET not in repr(settings)
    implicit = from_connection(Connection(conn_id="x", conn_type="smtp", host="h.example",
                                          extra=json.dumps({"from": "a@h.example",
                                                            "ssl": True})))
    assert (implicit.port, implicit.ssl, implicit.starttls) == (465, True, False)
    with pytest.raises(ValueError, match="no sender address"):
        from_connection(Connection(conn_id="x", conn_type="smtp", host="h.example"))


def test_a_server_without_starttls_is_not_sent_credentials(mail_server):
    from wageguard.delivery.mailer import send
    from wageguard.delivery.message import DistrictCounts, build_message
    from wageguard.delivery.roster import Inspector, RosterDistrict

    district = RosterDistrict("150202", "东河区", "150200", "包头市",
                              (Inspector("王芳", "w@rsj.example"),))
    message = build_message(sender="wageguard@rsj.example", inspector=district.inspectors[0],
                            district=district, run_date=D,
                            counts=DistrictCounts(), workbook=b"PK")
    settings = SmtpSettings(host="127.0.0.1", port=mail_server.port,
                            sender="wageguard@rsj.example", login="u", password=SECRET,
                            retry_delay_seconds=0.01)
    outcome = send(settings, message)
    assert (outcome.sent, outcome.attempts) == (False, 1)
    assert "SMTPNotSupportedError" in outcome.error and SECRET not in outcome.error
    assert mail_server.received == []


def test_the_message_id_is_that_of_the_night_district_and_recipient():
    from wageguard.delivery.message import DistrictCounts, build_message
    from wageguard.delivery.roster import Inspector, RosterDistrict

    wang, liu = Inspector("王芳", "w@rsj.example"), Inspector("刘洋", "liu@rsj.example")
    district = RosterDistrict("150202", "东河区", "150200", "包头市", (wang, liu))
    other = RosterDistrict("150203", "昆都仑区", "150200", "包头市", (wang,))

    def message_id(inspector=wang, place=district, run_date=D, workbook=b"PK"):
        return build_message(sender="欠薪预警 <wageguard@rsj.example>", inspector=inspector,
                             district=place, run_date=run_date, counts=DistrictCounts(),
                             workbook=workbook)["Message-ID"]

    first = message_id()
    assert re.fullmatch(r"<wageguard\.20261121\.150202\.[0-9a-f]{24}@rsj\.example>", first)
    assert message_id(workbook=b"PK again") == first, "every try of one list, one message"
    assert len({first, message_id(inspector=liu), message_id(place=other),
                message_id(run_date=D - dt.timedelta(days=1))}) == 4


class SlowRecorder(Recorder):
    """Takes its time over each message, as a real relay does; a message to
    `stall` is never answered."""

    def __init__(self):
        super().__init__()
        self.stall: str | None = None
        self.stalled = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.stall in envelope.rcpt_tos:
            self.stalled.set()
            await asyncio.sleep(3600)  # the sender is killed meanwhile
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_mail_server(free_tcp_port):
    yield from serve_mail(SlowRecorder(), free_tcp_port)


def _recipients(roster, night) -> list[tuple[str, str]]:
    """(district, recipient) in the order a delivery sends them."""
    return [(d.stem, i.email) for d in sorted((night / "lists").glob("*.xlsx"))
            if d.stem in roster for i in roster[d.stem].inspectors]


def test_two_deliveries_at_once_send_each_list_once(
        night, small_world, slow_mail_server, roster_file, engine):
    roster = load_roster(roster_file[0])
    settings = _settings(slow_mail_server.port)
    start = threading.Barrier(2)
    results = []

    def deliver():
        start.wait()
        results.append(deliver_night(engine, night, small_world.run_date, roster, settings))

    both = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join(timeout=300)
    everyone = _recipients(roster, night)
    received = Counter(rcpts[0] for rcpts, _, _ in slow_mail_server.received)
    assert sum(received.values()) == len(everyone) and set(received.values()) == {1}
    assert sorted((len(r.sent), r.already_sent) for r in results) == [
        (0, len(everyone)), (len(everyone), 0)]


# Delivers night D in a process of its own, so it can be killed mid-send.
DELIVER = """
import datetime as dt, sys
from pathlib import Path
from wageguard.delivery.deliver import deliver_night
from wageguard.delivery.roster import load_roster
from wageguard.delivery.settings import SmtpSettings
from wageguard.warehouse.engine import make_engine
url, night, day, roster, port = sys.argv[1:]
deliver_night(make_engine(url), Path(night), dt.date.fromisoformat(day),
              load_roster(Path(roster)),
              SmtpSettings(host="127.0.0.1", port=int(port), sender="wageguard@rsj.example",
                           starttls=False, timeout_seconds=600, attempts=1))
"""


def test_a_message_a_killed_run_may_have_sent_is_reported_and_not_sent_again_unasked(
        night, small_world, slow_mail_server, roster_file, engine, warehouse_url,
        monkeypatch):
    from wageguard.warehouse.lock import WAIT_ENV

    path, _ = roster_file
    roster = load_roster(path)
    everyone = _recipients(roster, night)
    district, stalled = everyone[2]
    slow_mail_server.stall = stalled
    run = subprocess.Popen(
        [sys.executable, "-c", DELIVER, warehouse_url, str(night),
         small_world.run_date.isoformat(), str(path), str(slow_mail_server.port)],
        stderr=subprocess.PIPE, text=True)
    assert slow_mail_server.stalled.wait(timeout=120), run.stderr.read() if run.poll() else ""
    run.send_signal(signal.SIGKILL)  # between sending and recording the outcome
    run.communicate()
    ledger = _ledger(engine, small_world.run_date)
    assert ledger[(district, stalled)]["status"] == "sending"
    recorded_id = ledger[(district, stalled)]["message_id"]
    slow_mail_server.stall = None

    # The killed run's hold on the night's delivery is taken over at once.
    monkeypatch.setenv(WAIT_ENV, "5")
    settings = _settings(slow_mail_server.port)
    result = deliver_night(engine, night, small_world.run_date, roster, settings)
    assert result.already_sent == 2 and len(result.sent) == len(everyone) - 3
    assert [(p["district_code"], p["recipient"], p["message_id"])
            for p in result.possibly_sent] == [(district, stalled, recorded_id)]
    assert stalled not in {rcpts[0] for rcpts, _, _ in slow_mail_server.received}
    with pytest.raises(DeliveryIncomplete) as incomplete:
        result.raise_if_incomplete()
    said = str(incomplete.value)
    assert f"{district} to {stalled}: possibly sent" in said and recorded_id in said
    assert f"wageguard deliver --date {small_world.run_date} --resend-unconfirmed" in said

    again = deliver_night(engine, night, small_world.run_date, roster, settings)
    assert again.sent == [] and len(again.possibly_sent) == 1, "still not sent unasked"
    confirmed = deliver_night(engine, night, small_world.run_date, roster, settings,
                              resend_unconfirmed=True)
    assert [s["recipient"] for s in confirmed.sent] == [stalled] and not confirmed.possibly_sent
    (message,) = [m for rcpts, m, _ in slow_mail_server.received if rcpts == [stalled]]
    assert message["Message-ID"] == recorded_id, "the same message as the one in doubt"
    assert _ledger(engine, small_world.run_date)[(district, stalled)]["status"] == "sent"
