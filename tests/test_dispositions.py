"""Inspectors' dispositions on flag occurrences, recorded by command and from
the inbox of filled-in district lists, on both warehouses."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from conftest import write_night_flags
from sqlalchemy import text
from wageguard.db.values import as_date
from wageguard.exports.marts import select
from wageguard.rules.disposition_inbox import ingest_inbox
from wageguard.rules.dispositions import (
    DispositionError,
    disposition_in_force,
    record_disposition,
)

D1, D2, D3, D4 = (dt.date(2026, 11, d) for d in (20, 21, 22, 23))
RAISED = dt.date(2026, 11, 1)
P, Q = "ZJ150203-2025-00123", "ZJ150203-2025-00456"
# As the district list writes them, with the inspector's columns among the others.
HEADER = ["超期", "预警等级", "规则", "问题", "项目编号", "首次预警日期", "已持续天数",
          "处置", "豁免截止日期", "处置理由", "处置人"]


def publish(engine, night, flags):
    """Night `night` published with flags {(project_id, rule): raised_on}."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO night (run_date, knowledge_cutoff, params, "
                          "first_published_at, last_published_at) "
                          "VALUES (:d, 'c', '{}', 't', 't')"),
                     {"d": night})
        put_flags(conn, night, flags)


def put_flags(conn, night, flags):
    """Night `night`'s flags become {(project_id, rule): raised_on}."""
    write_night_flags(conn, night, [(project_id, rule, "red", raised_on, "1", "{}", None, None)
                                    for (project_id, rule), raised_on in flags.items()])


def record(engine, **kwargs):
    with engine.begin() as conn:
        return record_disposition(conn, **{"today": D1, **kwargs})


def listed(conn, night):
    """Night `night`'s open flags as its lists show them (sql/marts/open_flags.sql)."""
    return {(row["project_id"], row["rule"]): row for row in select(
        conn, "open_flags", {"run_date": night, "previous_night": None, "escalation_days": 15})}


def in_force(engine, night):
    """The disposition in force on each flag occurrence listed on night `night`."""
    with engine.connect() as conn:
        return {key: disposition_in_force(conn, *key, as_date(row["raised_on"]))
                for key, row in listed(conn, night).items() if row["disposition"]}


def status(engine, night):
    """How night `night` lists each open flag: open, exempted or false_positive."""
    with engine.connect() as conn:
        return {key: row["status"] for key, row in listed(conn, night).items()}


def history(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT kind FROM disposition "
                                 "ORDER BY project_id, rule, raised_on, seq")).scalars().all()


@pytest.mark.parametrize("kind, until, reason, listed_as", [
    ("verified", None, None, "open"),
    ("exempted", D3, "已约谈总包, 限期开户", "exempted"),
    ("false_positive", None, "账户已开立, 住建数据未同步", "false_positive"),
])
def test_each_kind_is_recorded_and_read_back(engine, kind, until, reason, listed_as):
    publish(engine, D1, {(P, "WA1"): RAISED, (Q, "WA1"): RAISED})
    done = record(engine, project_id=P, rule="WA1", kind=kind, until=until, reason=reason,
                  inspector="王监察")
    assert (done.raised_on, done.seq, done.source) == (RAISED, 1, "command")
    got = in_force(engine, D1)
    assert list(got) == [(P, "WA1")]
    assert got[(P, "WA1")] == done
    assert (done.kind, done.until, done.reason, done.inspector) == (kind, until, reason, "王监察")
    assert status(engine, D1) == {(P, "WA1"): listed_as, (Q, "WA1"): "open"}


def test_an_exemption_hides_the_flag_through_its_last_day_then_it_is_listed_again(engine):
    publish(engine, D1, {(P, "WA1"): RAISED})
    record(engine, project_id=P, rule="WA1", kind="exempted", until=D2, reason="春节停工")
    for night in (D2, D3):
        publish(engine, night, {(P, "WA1"): RAISED})
    statuses = [status(engine, n)[(P, "WA1")] for n in (D1, D2, D3)]
    assert statuses == ["exempted", "exempted", "open"]


def test_a_false_positive_hides_only_its_own_occurrence(engine):
    publish(engine, D1, {(P, "WA1"): RAISED})
    record(engine, project_id=P, rule="WA1", kind="false_positive", reason="数据错误")
    publish(engine, D2, {})  # resolved
    publish(engine, D3, {(P, "WA1"): D3})  # back: a new occurrence
    assert status(engine, D1)[(P, "WA1")] == "false_positive"
    assert in_force(engine, D3) == {}
    assert status(engine, D3)[(P, "WA1")] == "open"


def test_the_latest_disposition_wins_and_the_earlier_ones_are_kept(engine):
    publish(engine, D1, {(P, "WA1"): RAISED})
    record(engine, project_id=P, rule="WA1", kind="exempted", until=D4, reason="等待整改")
    latest = record(engine, project_id=P, rule="WA1", kind="verified")
    assert latest.seq == 2
    assert in_force(engine, D1)[(P, "WA1")].kind == "verified"
    assert history(engine) == ["exempted", "verified"]


@pytest.mark.parametrize("change, message", [
    ({"project_id": Q}, f"flag WA1 of project {Q} is not open on night 2026-11-20"),
    ({"rule": "WD1"}, f"flag WD1 of project {P} is not open on night 2026-11-20"),
    ({"kind": "approved"}, "'approved' is not a disposition (处置)"),
    ({"reason": "  "}, "an exemption (豁免) needs a reason (处置理由)"),
    ({"until": None}, "an exemption (豁免) needs an end date (豁免截止日期"),
    ({"until": D1 - dt.timedelta(days=1)}, "2026-11-19 is a date in the past"),
    ({"kind": "false_positive", "until": None, "reason": None},
     "a false positive (误报) needs a reason (处置理由)"),
    ({"kind": "verified"}, "only an exemption (豁免) has an end date"),
])
def test_a_bad_disposition_is_refused_with_what_to_change_and_nothing_is_written(
        engine, change, message):
    publish(engine, D1, {(P, "WA1"): RAISED})
    good = {"project_id": P, "rule": "WA1", "kind": "exempted", "until": D2, "reason": "停工"}
    with pytest.raises(DispositionError) as refused:
        record(engine, **{**good, **change})
    assert message in str(refused.value)
    assert history(engine) == []


def test_every_problem_is_named_at_once(engine):
    with pytest.raises(DispositionError) as refused:
        record(engine, project_id=P, rule="WA1", kind="exempted", until=None, reason="")
    problems = str(refused.value).split("; ")
    assert [p.split(" ")[:3] for p in problems] == [
        ["no", "night", "has"], ["an", "exemption", "(豁免)"], ["an", "exemption", "(豁免)"]]


def test_dispositions_survive_a_rerun_of_the_night(engine):
    publish(engine, D1, {(P, "WA1"): RAISED, (Q, "WD1"): RAISED})
    record(engine, project_id=P, rule="WA1", kind="exempted", until=D2, reason="停工")
    record(engine, project_id=Q, rule="WD1", kind="verified")
    before = in_force(engine, D1)
    with engine.begin() as conn:  # what evaluate_rules does on a re-run
        put_flags(conn, D1, {(P, "WA1"): RAISED, (Q, "WD1"): RAISED})
    assert in_force(engine, D1) == before
    assert len(before) == 2


# The inbox -------------------------------------------------------------------

def workbook(path, rows, header=HEADER, sheet="预警清单"):
    """A district list as an inspector sends it back: rows are dicts by header."""
    book = openpyxl.Workbook()
    book.active.title = "汇总"
    flags = book.create_sheet(sheet)
    flags.append(header)
    for row in rows:
        flags.append([row.get(h) for h in header])
    book.save(path)
    return path


def line(project_id, rule="WA1", kind="", **more):
    return {"项目编号": project_id, "规则": rule, "首次预警日期": RAISED.isoformat(),
            "预警等级": "红", "处置": kind, **more}


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_a_good_sheet_is_recorded_whole_and_moved_to_processed(engine, inbox):
    flags = {(P, "WA1"): RAISED, (P, "WD1"): RAISED, (Q, "WA1"): RAISED, (Q, "RN1"): RAISED}
    publish(engine, D1, flags)
    workbook(inbox / "150203.xlsx", [
        line(P, "WA1", "核实", 处置人="王监察"),
        # an Excel date cell, as typed into the sheet
        line(P, "WD1", "豁免", 豁免截止日期=dt.datetime(2026, 12, 31), 处置理由="保函在办"),
        line(Q, "WA1", "误报", 处置理由="账户已开立", 首次预警日期=dt.datetime(2026, 11, 1)),
        line(Q, "RN1"),  # not disposed of: ignored
    ])
    report = ingest_inbox(engine, inbox, today=D1)
    assert (report.processed, report.rejected, report.recorded) == (["150203.xlsx"], [], 3)
    assert list(inbox.glob("*.xlsx")) == []
    (moved,) = (inbox / "processed").iterdir()
    assert moved.name.endswith("_150203.xlsx")
    got = in_force(engine, D1)
    assert {k: (d.kind, d.until, d.reason, d.inspector) for k, d in got.items()} == {
        (P, "WA1"): ("verified", None, None, "王监察"),
        (P, "WD1"): ("exempted", dt.date(2026, 12, 31), "保函在办", None),
        (Q, "WA1"): ("false_positive", None, "账户已开立", None),
    }
    assert {d.source for d in got.values()} == {moved.name}
    assert ingest_inbox(engine, inbox, today=D1).processed == []  # never re-read


def test_a_sheet_with_a_bad_row_records_nothing_and_is_rejected_with_its_errors(engine, inbox):
    publish(engine, D1, {(P, "WA1"): dt.date(2026, 11, 15), (P, "WD1"): RAISED,
                         (Q, "WA1"): RAISED})
    workbook(inbox / "150203.xlsx", [
        line(Q, "WA1", "核实"),  # good, but the sheet goes whole or not at all
        line(P, "WD1", "豁免", 豁免截止日期="2026-11-01", 处置理由="停工"),
        line(P, "WA1", "误报", 处置理由="数据错误"),  # from an older occurrence
        line(Q, "CR1", "批准"),
    ])
    report = ingest_inbox(engine, inbox, today=D1)
    assert (report.processed, report.rejected, report.bad_rows) == ([], ["150203.xlsx"], 3)
    assert history(engine) == []
    rejected = inbox / "rejected"
    (moved,) = rejected.glob("*.xlsx")
    errors = (rejected / f"{moved.name}.errors.txt").read_text(encoding="utf-8").splitlines()
    assert errors[0].startswith("150203.xlsx: nothing from this file was recorded")
    assert [e.split(":")[0] for e in errors[2:]] == [
        f"row 3, project {P}, rule WD1", f"row 4, project {P}, rule WA1",
        f"row 5, project {Q}, rule CR1"]
    assert "2026-11-01 is a date in the past" in errors[2]
    assert "first raised on 2026-11-01 (首次预警日期)" in errors[3]
    assert "'批准' is not a disposition" in errors[4]
    assert f"flag CR1 of project {Q} is not open" in errors[4]


def test_a_row_sent_back_unchanged_is_not_recorded_again(engine, inbox):
    publish(engine, D1, {(P, "WA1"): RAISED})
    record(engine, project_id=P, rule="WA1", kind="exempted", until=D2, reason="停工")
    publish(engine, D3, {(P, "WA1"): RAISED})
    # D3's list shows the expired exemption as recorded; returning it is no new claim
    workbook(inbox / "a.xlsx", [line(P, "WA1", "豁免", 豁免截止日期=D2.isoformat(),
                                     处置理由="停工")])
    report = ingest_inbox(engine, inbox, today=D3)
    assert (report.processed, report.recorded, report.unchanged) == (["a.xlsx"], 0, 1)
    assert history(engine) == ["exempted"]


@pytest.mark.parametrize("content, message", [
    (b"project_id,rule\n", "not a readable Excel workbook (.xlsx)"),
    ({"sheet": "Sheet1"}, "the workbook has no sheet named 预警清单"),
    ({"header": ["项目编号", "规则", "处置"]},
     "lacks the column(s) 首次预警日期, 豁免截止日期, 处置理由 in its header row"),
])
def test_a_file_that_is_not_a_district_list_is_rejected_with_the_reason(
        engine, inbox, content, message):
    publish(engine, D1, {(P, "WA1"): RAISED})
    path = inbox / "list.xlsx"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        workbook(path, [line(P, "WA1", "核实")], **content)
    report = ingest_inbox(engine, inbox, today=D1)
    assert report.rejected == ["list.xlsx"]
    (errors,) = (inbox / "rejected").glob("*.errors.txt")
    assert message in errors.read_text(encoding="utf-8")
    assert history(engine) == []


def test_a_flag_disposed_of_twice_in_one_sheet_is_a_bad_row(engine, inbox):
    publish(engine, D1, {(P, "WA1"): RAISED})
    workbook(inbox / "a.xlsx", [line(P, "WA1", "核实"), line(P, "WA1", "误报", 处置理由="x")])
    assert ingest_inbox(engine, inbox, today=D1).rejected == ["a.xlsx"]
    (errors,) = (inbox / "rejected").glob("*.errors.txt")
    assert "row 3, project" in errors.read_text(encoding="utf-8")
    assert "disposed of in row 2" in errors.read_text(encoding="utf-8")


def test_a_redropped_file_of_the_same_name_does_not_collide(engine, inbox):
    publish(engine, D1, {(P, "WA1"): RAISED})
    for kind in ("核实", "误报"):
        workbook(inbox / "a.xlsx", [line(P, "WA1", kind, 处置理由="数据错误")])
        assert ingest_inbox(engine, inbox, today=D1).processed == ["a.xlsx"]
    assert len(list((inbox / "processed").iterdir())) == 2
    assert history(engine) == ["verified", "false_positive"]
