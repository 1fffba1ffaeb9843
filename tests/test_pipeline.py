"""The nightly stages in process, on both warehouses, against the local source
systems over real HTTP: counts reconcile, planted cases are flagged exactly,
and a re-run changes nothing."""

from __future__ import annotations

import csv
import hashlib
import json
import re

import pytest
from conftest import run_night_in_process
from sqlalchemy import text
from wageguard.landing.packing import unpack
from wageguard.rules.catalogue import load_rules
from wageguard.warehouse.engine import make_engine

EXPORTED = ("flags.csv", "resolution.csv", "links.csv", "blacklist/entries.csv",
            "blacklist/entries.jsonl", "blacklist/changes.csv")


@pytest.fixture
def night(warehouse_url, tmp_path, monkeypatch, small_world, sources):
    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(tmp_path / "out"))
    summary = run_night_in_process(small_world.run_date, sources)
    return tmp_path / "out" / small_world.run_date.isoformat(), summary


def _read_csv(path):
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _digest(folder):
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in EXPORTED}


def test_counts_reconcile(night):
    folder, _ = night
    report = json.loads((folder / "run_report.json").read_text(encoding="utf-8"))
    assert set(report["sources"]) == {
        "projects", "wage_accounts", "wage_deposits", "realname_monthly", "enterprises",
        "list_entries", "investment_projects", "fund_disbursements",
    }
    for table, c in report["sources"].items():
        assert c["pulled"] > 0, table
        assert c["pulled"] == (c["loaded"] + c["quarantined"] + c["superseded"]
                               + c["unchanged"]), table


def test_planted_cases_are_flagged_exactly(night, small_world):
    folder, _ = night
    evaluated = {r.code for r in load_rules()}
    flags = {(r["project_id"], r["rule"]): r for r in _read_csv(folder / "flags.csv")}
    checked = 0
    for case in small_world.planted:
        if case.rule not in evaluated:
            continue
        checked += 1
        found = flags.get((case.project_id, case.rule))
        if case.expected:
            assert found, f"missing {case.rule} on {case.project_id}: {case.note}"
            assert found["base_severity"] == case.severity, case.note
        else:
            assert found is None, f"unexpected {case.rule} on {case.project_id}: {case.note}"
    assert checked >= 15


def test_planted_parties_resolve_as_promised(night, small_world):
    folder, _ = night
    rows = {(r["project_id"], r["role"]): r for r in _read_csv(folder / "resolution.csv")}
    for case in small_world.planted_resolution:
        row = rows[(case.project_id, case.role)]
        assert row["status"] == case.expected_status, case.note
        assert (row["credit_code"] or None) == case.expected_credit_code, case.note


def test_every_planted_malformed_record_is_quarantined_with_its_reasons(
        night, warehouse_url, small_world):
    engine = make_engine(warehouse_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT source_table, reasons, payload FROM quarantine")).all()
    assert all(json.loads(r.reasons) for r in rows)
    quarantined = {(r.source_table, _key_or_none(r.source_table, json.loads(r.payload)))
                   for r in rows}
    assert small_world.planted_malformed
    checked = 0
    for dirt in small_world.planted_malformed:
        versions = [r for r in small_world.rows(dirt.table) if _key_or_none(dirt.table, r)
                    == dirt.key]
        if len(versions) > 1:
            continue  # a later version of the record supersedes the malformed one
        checked += 1
        assert (dirt.table, dirt.key) in quarantined, f"not quarantined: {dirt}"
    assert checked >= len(small_world.planted_malformed) // 2


def test_every_warned_record_is_loaded_with_its_warnings(night, warehouse_url, small_world):
    """Records that break their contract only in descriptive fields (the world's own
    dirt and the planted blanks) are loaded, never quarantined, and each breach is
    kept beside the record."""
    engine = make_engine(warehouse_url)
    with engine.connect() as conn:
        quarantined = {(r.source_table, _key_or_none(r.source_table, json.loads(r.payload)))
                       for r in conn.execute(text("SELECT source_table, payload FROM quarantine"))}
        warned = {}
        for r in conn.execute(text(
                "SELECT w.source_table, w.column_name, w.severity, p.packed "
                "FROM record_warning w JOIN payload p ON p.payload_hash = w.payload_hash")):
            key = _key_or_none(r.source_table, json.loads(unpack(conn, r.packed)))
            warned.setdefault((r.source_table, key), set()).add((r.column_name, r.severity))
    assert small_world.planted_warned and small_world.planted_blanks
    checked = 0
    for dirt in small_world.planted_warned:
        versions = [r for r in small_world.rows(dirt.table)
                    if _key_or_none(dirt.table, r) == dirt.key]
        if len(versions) > 1:
            continue  # a later version of the record supersedes the warned one
        checked += 1
        assert (dirt.table, dirt.key) not in quarantined, f"quarantined: {dirt}"
        assert (dirt.table, dirt.key) in warned, f"no warning kept: {dirt}"
    assert checked >= len(small_world.planted_warned) // 2
    for blank in small_world.planted_blanks:
        assert (blank.table, blank.key) not in quarantined, blank.note
        assert (blank.column, "warning") in warned[(blank.table, blank.key)], blank.note


def test_warnings_are_reported_per_table_and_check(night):
    folder, _ = night
    report = json.loads((folder / "run_report.json").read_text(encoding="utf-8"))
    accounts = report["sources"]["wage_accounts"]
    blank_bank = "expect_column_values_to_not_be_null(bank_name)"
    assert accounts["warnings"][blank_bank] >= 2, "the planted blank bank names at least"
    assert accounts["warned"] >= accounts["warnings"][blank_bank]
    assert report["sources"]["list_entries"]["warnings"][
        "expect_column_values_to_not_be_null(subject_name)"] >= 1
    for table, counts in report["sources"].items():
        assert counts["warned"] <= counts["loaded"], table
        assert sum(counts["warnings"].values()) >= counts["warned"], table
    page = (folder / "data_docs" / "wage_accounts.html").read_text(encoding="utf-8")
    assert "Severity" in page and ">warning<" in page


def test_blank_descriptive_fields_go_out_as_inspectors_and_agencies_expect(night, small_world):
    folder, _ = night
    blanks = {(b.table, b.column): b for b in small_world.planted_blanks}
    entries = {r["entry_id"]: r for r in _read_csv(folder / "blacklist" / "entries.csv")}
    lines = (folder / "blacklist" / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    jsonl = {e["entry_id"]: e for e in map(json.loads, lines)}
    person = blanks[("list_entries", "subject_name")].key
    assert entries[person]["subject_name"] == "" and jsonl[person]["subject_name"] is None
    assert re.fullmatch(r"\d{6}\*+\w{4}", entries[person]["person_id_masked"])
    organisation = blanks[("list_entries", "cause")].key
    assert entries[organisation]["cause"] == entries[organisation]["listing_authority"] == ""
    assert entries[organisation]["decision_no"], "the fields that were typed go out as typed"

    flags = _read_csv(folder / "flags.csv")
    nameless = blanks[("projects", "name")].key
    (flag,) = [f for f in flags if f["project_id"] == nameless]
    listed = _read_csv(folder / "lists" / f"{flag['district_code']}.csv")
    (row,) = [r for r in listed if r["项目编号"] == nameless]
    assert row["项目名称"] == "（未填报）"
    unfiled = next(c.project_id for c in small_world.planted
                   if c.rule == "WA2" and c.expected and "bank name blank" in c.note)
    (flag,) = [f for f in flags if f["project_id"] == unfiled]
    listed = _read_csv(folder / "lists" / f"{flag['district_code']}.csv")
    (row,) = [r for r in listed if r["项目编号"] == unfiled]
    assert row["规则"] == "WA2" and row["数据问题"] == "专户开户银行为空"
    clean = next(c.project_id for c in small_world.planted
                 if c.rule == "WA2" and c.expected and "never filed" in c.note
                 and c.project_id != unfiled)
    (flag,) = [f for f in flags if f["project_id"] == clean and f["rule"] == "WA2"]
    listed = _read_csv(folder / "lists" / f"{flag['district_code']}.csv")
    (row,) = [r for r in listed if r["项目编号"] == clean and r["规则"] == "WA2"]
    assert row["数据问题"] == "", "a flag whose records are clean shows no data problem"


def _key_or_none(table, record):
    from wageguard_dev.demo.cases import record_key

    try:
        return record_key(table, record)
    except KeyError:
        return None


def test_what_normalisation_changed_is_recorded(night, warehouse_url, small_world):
    engine = make_engine(warehouse_url)
    with engine.connect() as conn:
        kinds = dict(conn.execute(text(
            "SELECT kind, COUNT(*) FROM normalisation_change GROUP BY kind")).all())
    assert small_world.planted_messy
    assert kinds, "the world's messy records must leave a trace of what was normalised"
    assert sum(kinds.values()) >= len(small_world.planted_messy) // 2


def test_the_run_publishes_gx_data_docs_of_every_pull(night):
    folder, _ = night
    index = (folder / "data_docs" / "index.html").read_text(encoding="utf-8")
    for table in ("projects", "wage_accounts", "enterprises", "fund_disbursements"):
        assert f'href="{table}.html"' in index
        page = (folder / "data_docs" / f"{table}.html").read_text(encoding="utf-8")
        assert "Expectation Suite" in page and f"{table}.html" in page
        assert "values must never be null" in page


def test_data_docs_rendered_alongside_are_those_rendered_inline(night, warehouse_url, tmp_path,
                                                                monkeypatch):
    from wageguard.exports.data_docs import MODE_ENV, DataDocs

    folder, _ = night
    engine = make_engine(warehouse_url)
    with engine.connect() as conn:
        batch_ids = [r[0] for r in conn.execute(text("SELECT batch_id FROM load_batch"))]
        for mode in ("separate", "inline"):
            monkeypatch.setenv(MODE_ENV, mode)
            with DataDocs(conn, tmp_path / mode, batch_ids) as docs:
                assert docs.finish() > 0
        monkeypatch.setenv(MODE_ENV, "in a thread")
        with pytest.raises(RuntimeError, match="use one of separate, inline"):
            DataDocs(conn, tmp_path / "wrong", batch_ids)
    engine.dispose()

    def page(path):  # GX stamps the render time and fresh UUIDs into every page
        text_ = re.sub(r"\?d=\d{8}T\d{6}\.\d+Z", "", path.read_text(encoding="utf-8"))
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "", text_)

    pages = sorted(p.name for p in (tmp_path / "separate").iterdir() if p.is_file())
    assert len(pages) == 9
    for other in (tmp_path / "inline", folder / "data_docs"):
        assert pages == sorted(p.name for p in other.iterdir() if p.is_file())
        for name in pages:
            assert page(tmp_path / "separate" / name) == page(other / name), name


def test_data_docs_open_in_a_browser_and_show_the_suites(night):
    from conftest import headless_dom

    folder, _ = night
    index = headless_dom(folder / "data_docs" / "index.html")
    assert "Great Expectations validation of each pull" in index
    page = headless_dom(folder / "data_docs" / "projects.html")
    assert "Expectation Suite" in page and ">projects<" in page
    assert "Evaluated Expectations" in page


def test_district_lists_hold_only_their_district(night):
    folder, _ = night
    lists = sorted((folder / "lists").glob("*.csv"))
    assert lists
    for path in lists:
        for row in _read_csv(path):
            assert row["行政区划代码"] == path.stem
        assert path.with_suffix(".xlsx").is_file()


def test_rerun_of_the_same_night_changes_nothing_but_the_pull_ledger(
        night, warehouse_url, small_world, sources):
    folder, _ = night
    before = _digest(folder)
    engine = make_engine(warehouse_url)
    count = "SELECT COUNT(*) FROM {}"
    tables = ("project_version", "flag_night", "night_project", "night_party", "quarantine")
    with engine.connect() as conn:
        sizes = {t: conn.execute(text(count.format(t))).scalar() for t in tables}
    for _ in range(2):  # the same night three times in all
        run_night_in_process(small_world.run_date, sources)
        assert _digest(folder) == before
        with engine.connect() as conn:
            assert {t: conn.execute(text(count.format(t))).scalar() for t in tables} == sizes


def test_an_exempted_flag_leaves_the_list_until_its_exemption_ends(
        night, warehouse_url, small_world, sources, monkeypatch):
    from wageguard.cli import main

    folder, _ = night
    flag = next(r for r in _read_csv(folder / "flags.csv") if r["rule"] == "WA1")
    refused = main(["dispose", "--project", flag["project_id"], "--rule", "WA1", "--exempted",
                    "--exempt-until", "2030-01-01"])
    assert refused == 2, "an exemption without a reason is refused"
    assert main(["dispose", "--project", flag["project_id"], "--rule", "WA1", "--exempted",
                 "--exempt-until", "2030-01-01", "--reason", "停工待复工，已约谈"]) == 0
    run_night_in_process(small_world.run_date, sources)
    after = {(r["project_id"], r["rule"]): r for r in _read_csv(folder / "flags.csv")}
    exempted = after[(flag["project_id"], "WA1")]
    assert (exempted["status"], exempted["disposition"], exempted["exempt_until"]) == (
        "exempted", "exempted", "2030-01-01")
    listed = _read_csv(folder / "lists" / f"{flag['district_code']}.csv")
    assert not any(r["项目编号"] == flag["project_id"] and r["规则"] == "WA1" for r in listed)


def test_a_flag_is_traced_to_the_exact_source_payloads(night, small_world, capsys):
    from wageguard.cli import main
    from wageguard.landing.store import canonical, payload_hash

    folder, _ = night
    flag = next(r for r in _read_csv(folder / "flags.csv") if r["rule"] == "CR1")
    assert main(["why", "--date", small_world.run_date.isoformat(), "--project",
                 flag["project_id"], "--rule", "CR1"]) == 0
    story = json.loads(capsys.readouterr().out)
    assert story["facts"]["entry_id"]
    by_table = {}
    for record in story["source_records"]:
        by_table.setdefault(record["table"], []).append(record)
        assert payload_hash(canonical(record["payload"])).hex() == record["payload_hash"]
        assert record["source"] and record["pulled_at"] and record["batch_id"]
    (project,) = by_table["projects"]
    assert project["payload"]["project_id"] == flag["project_id"]
    served = [r for r in small_world.projects if r["project_id"] == flag["project_id"]]
    assert project["payload"] in served, "the payload is exactly what the source served"
    entries = {r["key"]: r for r in by_table["list_entries"]}
    assert story["facts"]["entry_id"] in entries
    assert entries[story["facts"]["entry_id"]]["payload"]["list_type"] == "dishonest"
    assert main(["why", "--date", small_world.run_date.isoformat(), "--project",
                 flag["project_id"], "--rule", "RN9"]) == 2


def test_no_published_night_keeps_its_snapshot_and_earlier_flags_are_still_explained(
        night, warehouse_url, small_world, tmp_path):
    from wageguard import pipeline
    from wageguard_dev.demo.night_after import the_night_after
    from wageguard_dev.demo.sources import running_sources

    folder, _ = night
    flag = next(r for r in _read_csv(folder / "flags.csv") if r["rule"] == "WD2")
    before = pipeline.explain(small_world.run_date, flag["project_id"], "WD2")
    after = the_night_after(small_world, 0.01)
    with running_sources(after, workdir=tmp_path / "after", ports=0,
                         clock=lambda: after.as_of) as running:
        run_night_in_process(after.run_date, running)
    engine = make_engine(warehouse_url)
    with engine.connect() as conn:
        kept = dict(conn.execute(text(
            "SELECT run_date, COUNT(*) FROM night_party GROUP BY run_date")).all())
        flags = conn.execute(text("SELECT COUNT(*) FROM flag_night WHERE run_date = :d"),
                             {"d": small_world.run_date}).scalar()
    engine.dispose()
    assert not kept, "snapshots dropped once published"
    assert flags > 0, "an earlier night's flags stay"
    assert pipeline.explain(small_world.run_date, flag["project_id"], "WD2") == before
    with make_engine(warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM night_party WHERE run_date = :d"),
                            {"d": small_world.run_date}).scalar() == 0, "the rebuild is undone"


def _normalised_key(table, key):
    import unicodedata

    parts = key if isinstance(key, tuple) else (key,)
    parts = [unicodedata.normalize("NFKC", p).strip() for p in parts]
    if table == "fund_disbursements" and len(parts[1]) == 6:
        parts[1] = f"{parts[1][:4]}-{parts[1][4:]}"
    return tuple(parts)


VERSION_KEYS = {
    "projects": ("project_version", "project_id"),
    "wage_accounts": ("wage_account_version", "account_id"),
    "wage_deposits": ("wage_deposit_version", "deposit_id"),
    "realname_monthly": ("realname_month_version", "project_id, month"),
    "enterprises": ("enterprise_version", "credit_code"),
    "list_entries": ("list_entry_version", "entry_id"),
    "investment_projects": ("investment_project", "investment_code"),
    "fund_disbursements": ("fund_disbursement", "investment_code, month"),
}


def test_every_planted_mess_is_normalised_and_loaded(night, warehouse_url, small_world):
    engine = make_engine(warehouse_url)
    loaded = {}
    with engine.connect() as conn:
        for table, (version_table, key) in VERSION_KEYS.items():
            loaded[table] = {tuple(r) for r in conn.execute(
                text(f"SELECT {key} FROM {version_table}"))}
    checked = 0
    for mess in small_world.planted_messy:
        versions = [r for r in small_world.rows(mess.table)
                    if _key_or_none(mess.table, r) == mess.key]
        if len(versions) > 1:
            continue  # a later version is the record
        checked += 1
        assert _normalised_key(mess.table, mess.key) in loaded[mess.table], f"not loaded: {mess}"
    assert checked >= len(small_world.planted_messy) // 2


def test_the_resolution_report_lists_exactly_the_planted_unresolved_parties(night, small_world):
    folder, _ = night
    unresolved = {(r["project_id"], r["role"], r["status"])
                  for r in _read_csv(folder / "resolution.csv") if r["status"] != "resolved"}
    planted = {(c.project_id, c.role, c.expected_status) for c in small_world.planted_resolution
               if c.expected_status != "resolved"}
    assert unresolved == planted


def test_a_never_run_night_before_a_published_one_is_refused(night, warehouse_url, small_world,
                                                             sources):
    import datetime as dt

    from wageguard.warehouse.night import LateNightError

    folder, _ = night
    earlier = small_world.run_date - dt.timedelta(days=1)
    with pytest.raises(LateNightError, match="oldest first"):
        run_night_in_process(earlier, sources)
    with make_engine(warehouse_url).connect() as conn:
        for table in ("night", "flag_night", "night_project"):
            found = conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE run_date = :d"),
                                 {"d": earlier}).scalar()
            assert found == 0, table
    assert not (folder.parent / earlier.isoformat()).exists()


def test_a_night_later_than_today_is_refused_before_anything_is_touched(
        engine, warehouse_url, tmp_path, monkeypatch):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from wageguard import pipeline
    from wageguard.delivery.settings import SmtpSettings
    from wageguard.sources.config import SourceConfig

    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(tmp_path / "out"))
    tomorrow = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date() + dt.timedelta(days=1)
    view = {"run_date": tomorrow.isoformat(), "knowledge_cutoff": "", "bundle_day": None,
            "rerun": False, "lock": ""}
    nowhere = SourceConfig("http://127.0.0.1:9", secret="never sent")
    for stage in (lambda: pipeline.ingest_feed("projects", tomorrow, nowhere),
                  lambda: pipeline.build_night(tomorrow),
                  lambda: pipeline.export(view, []),
                  lambda: pipeline.deliver(tomorrow, SmtpSettings("127.0.0.1", 9, "a@b.example"))):
        with pytest.raises(pipeline.FutureNightError,
                           match=f"night {tomorrow} is later than today .*can be run from "
                                 f"{tomorrow} on"):
            stage()
    with engine.connect() as conn:
        for table in ("load_batch", "stage_run", "night_lock", "night", "delivery"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0, table
    assert not (tmp_path / "out").exists()


def test_a_night_recovered_after_a_failed_attempt_reports_every_pull_behind_it(
        warehouse_url, tmp_path, monkeypatch, small_world, sources):
    from wageguard.exports import night_outputs

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(tmp_path / "out"))
    with monkeypatch.context() as broken:  # the first attempt loads everything, then fails
        broken.setattr(night_outputs, "write_dashboard", disk_full)
        with pytest.raises(OSError, match="disk full"):
            run_night_in_process(small_world.run_date, sources)
    run_night_in_process(small_world.run_date, sources)
    folder = tmp_path / "out" / small_world.run_date.isoformat()
    report = json.loads((folder / "run_report.json").read_text(encoding="utf-8"))

    with make_engine(warehouse_url).connect() as conn:
        pulls = conn.execute(text(
            "SELECT source_table, batch_id, pulled, loaded, quarantined, superseded, unchanged, "
            "warned FROM load_batch ORDER BY source_table, loaded_at")).all()
    assert {r.source_table for r in pulls} == set(report["sources"])
    for table, counts in report["sources"].items():
        mine = [r for r in pulls if r.source_table == table]
        assert counts["batch_ids"] == [r.batch_id for r in mine], table
        assert len(mine) == 2, f"{table}: the failed attempt's pull and the recovery's"
        for count in ("pulled", "loaded", "quarantined", "superseded", "unchanged", "warned"):
            assert counts[count] == sum(getattr(r, count) or 0 for r in mine), (table, count)
        assert mine[0].pulled > 0, f"{table}: the first attempt's records count"
        assert counts["pulled"] == sum(counts[k] for k in (
            "loaded", "quarantined", "superseded", "unchanged")), table
    assert {r.source_table for r in pulls if r.pulled == 0} >= {"projects", "wage_accounts"}, \
        "the recovery's incremental pulls bring nothing new"
    blank_bank = "expect_column_values_to_not_be_null(bank_name)"
    assert report["sources"]["wage_accounts"]["warnings"][blank_bank] >= 2

    run_night_in_process(small_world.run_date, sources)  # a re-run's own pulls are not the night's
    again = json.loads((folder / "run_report.json").read_text(encoding="utf-8"))
    assert again["rerun"] and again["sources"] == report["sources"]
