"""The marts of sql/marts/, each given a few rows of the tables it reads and
held to the rows it must give, on both warehouses, in the spirit of dbt's unit
tests: no night is run."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from conftest import write_night_flags
from sqlalchemy import text
from wageguard.exports.marts import select
from wageguard.rules.flag_versions import FLAG_COLUMNS

D = dt.date(2026, 11, 21)
PREVIOUS = dt.date(2026, 11, 20)
ESCALATION = {"escalation_days": 15}


def days_before(days: int, night: dt.date = D) -> dt.date:
    return night - dt.timedelta(days=days)


def given(engine, table: str, *rows: dict) -> None:
    if table == "flag_night":
        return given_flags(engine, rows)
    with engine.begin() as conn:
        for row in rows:
            conn.execute(text(f"INSERT INTO {table} ({', '.join(row)}) "
                              f"VALUES ({', '.join(':' + k for k in row)})"), row)


def given_flags(engine, flags: tuple[dict, ...]) -> None:
    """flag_night is a view of the flag versions: each night's flags go in as
    its evaluation writes them."""
    nights: dict[dt.date, list[tuple]] = defaultdict(list)
    for row in flags:
        nights[row["run_date"]].append(tuple(row.get(c) for c in FLAG_COLUMNS))
    with engine.begin() as conn:
        for night, found in nights.items():
            write_night_flags(conn, night, found)


def rows_of(engine, mart: str, columns: tuple[str, ...], **params) -> list[tuple]:
    """The mart's rows, in its order, as tuples of `columns`; dates as ISO
    text, which is how SQLite gives them back."""
    with engine.connect() as conn:
        found = select(conn, mart, params)
    return [tuple(v.isoformat() if isinstance(v, dt.date) else v for v in
                  (row[c] for c in columns)) for row in found]


def flag(project: str, rule: str, raised_on: dt.date, severity: str = "red", *,
         night: dt.date = D, district: str = "150202") -> dict:
    return {"run_date": night, "project_id": project, "rule": rule, "base_severity": severity,
            "raised_on": raised_on, "rule_version": "1", "detail": "{}",
            "district_code": district, "project_name": f"{project}工程"}


def disposition(project: str, rule: str, raised_on: dt.date, kind: str, *, seq: int = 1,
                until: dt.date | None = None) -> dict:
    return {"project_id": project, "rule": rule, "raised_on": raised_on, "seq": seq,
            "kind": kind, "until": until, "reason": "理由" if kind != "verified" else None,
            "inspector": "王监察", "source": "command", "recorded_at": "t"}


def project(district: str, project_id: str | None = None) -> dict:
    return {"run_date": D, "project_id": project_id or f"P{district}", "payload_hash": "h",
            "district_code": district, "active": 1}


# sql/marts/open_flags.sql

LIFECYCLE = ("project_id", "rule", "base_severity", "severity", "raised_on", "days_open",
             "overdue")


def test_days_open_overdue_and_escalation_one_level_up(engine):
    given(engine, "flag_night",
          flag("P1", "WA2", D, "yellow"),
          flag("P2", "WA2", days_before(15), "yellow"),  # exactly 15 days: not yet overdue
          flag("P3", "WA2", days_before(16), "yellow"),
          flag("P4", "WD2", days_before(16), "orange"),
          flag("P5", "WD1", days_before(40), "red"))  # red stays red
    assert rows_of(engine, "open_flags", LIFECYCLE, run_date=D, previous_night=None,
                   **ESCALATION) == [  # in list order
        ("P5", "WD1", "red", "red", "2026-10-12", 40, 1),
        ("P4", "WD2", "orange", "red", "2026-11-05", 16, 1),
        ("P3", "WA2", "yellow", "orange", "2026-11-05", 16, 1),
        ("P2", "WA2", "yellow", "yellow", "2026-11-06", 15, 0),
        ("P1", "WA2", "yellow", "yellow", "2026-11-21", 0, 0),
    ]


def test_days_open_across_a_year_end_and_a_leap_day_and_escalation_days_bound(engine):
    night = dt.date(2028, 3, 1)
    given(engine, "flag_night",
          flag("P1", "WA1", dt.date(2027, 12, 31), "orange", night=night),
          flag("P2", "WA1", dt.date(2028, 2, 28), "orange", night=night))
    assert rows_of(engine, "open_flags", LIFECYCLE, run_date=night, previous_night=None,
                   escalation_days=60) == [
        ("P1", "WA1", "orange", "red", "2027-12-31", 61, 1),
        ("P2", "WA1", "orange", "orange", "2028-02-28", 2, 0),
    ]


def test_new_unless_open_on_the_previous_published_night(engine):
    given(engine, "flag_night",
          flag("P1", "WA1", days_before(10), night=PREVIOUS),
          flag("P1", "WA1", days_before(10)),  # carried over
          flag("P2", "WA1", days_before(3), night=days_before(3)),
          flag("P2", "WA1", D),  # open two nights ago, not on the previous one
          flag("P3", "CR1", D))
    columns = ("project_id", "rule", "new")
    assert rows_of(engine, "open_flags", columns, run_date=D, previous_night=PREVIOUS,
                   **ESCALATION) == [("P1", "WA1", 0), ("P2", "WA1", 1), ("P3", "CR1", 1)]
    assert rows_of(engine, "open_flags", columns, run_date=D, previous_night=None,
                   **ESCALATION) == [("P1", "WA1", 1), ("P2", "WA1", 1), ("P3", "CR1", 1)]


def test_listing_status_follows_the_disposition_in_force_on_the_occurrence(engine):
    raised = days_before(5)
    given(engine, "flag_night", *(flag(p, "WA1", raised) for p in
                                  ("P1", "P2", "P3", "P4", "P5", "P6", "P7")))
    given(engine, "disposition",
          disposition("P2", "WA1", raised, "verified"),
          disposition("P3", "WA1", raised, "exempted", until=D),  # through its last day
          disposition("P4", "WA1", raised, "exempted", until=days_before(1)),  # ended
          disposition("P5", "WA1", raised, "false_positive"),
          disposition("P6", "WA1", raised, "false_positive"),
          disposition("P6", "WA1", raised, "verified", seq=2),  # the latest is in force
          disposition("P7", "WA1", days_before(30), "false_positive"))  # an earlier occurrence
    columns = ("project_id", "status", "disposition", "disposition_until")
    assert rows_of(engine, "open_flags", columns, run_date=D, previous_night=None,
                   **ESCALATION) == [
        ("P1", "open", "", None),
        ("P2", "open", "verified", None),
        ("P3", "exempted", "exempted", "2026-11-21"),
        ("P4", "open", "exempted", "2026-11-20"),
        ("P5", "false_positive", "false_positive", None),
        ("P6", "open", "verified", None),
        ("P7", "open", "", None),
    ]


def test_an_overdue_red_flag_is_one_the_lists_show_overdue_and_red(engine):
    long_ago = days_before(30)
    given(engine, "flag_night",
          flag("P1", "WA1", long_ago, "red"),
          flag("P2", "WA1", long_ago, "orange"),  # escalated to red
          flag("P3", "WA2", long_ago, "yellow"),  # escalated to orange only
          flag("P4", "WA1", days_before(3), "red"),  # red, not overdue
          flag("P5", "WA1", long_ago, "red"),
          flag("P6", "WA1", long_ago, "red"))
    given(engine, "disposition",
          disposition("P5", "WA1", long_ago, "exempted", until=D),
          disposition("P6", "WA1", long_ago, "false_positive"))
    found = dict(rows_of(engine, "open_flags", ("project_id", "overdue_red"), run_date=D,
                         previous_night=None, **ESCALATION))
    assert found == {"P1": 1, "P2": 1, "P3": 0, "P4": 0, "P5": 0, "P6": 0}


def test_the_parties_beside_each_flag_and_the_order_of_the_lists(engine):
    given(engine, "flag_night",
          flag("P1", "WA2", days_before(2), "yellow"),
          flag("P1", "WD1", days_before(3), "red"),
          flag("P2", "WA1", days_before(20), "orange"),  # overdue: red
          flag("P3", "WA2", days_before(30), "yellow"),  # overdue: orange
          flag("P4", "WA1", days_before(20), "red"),
          flag("P4", "CR1", days_before(25), "red"),
          flag("P9", "WA1", days_before(21), "red", district="150203"))  # another district
    given(engine, "night_party",
          {"run_date": D, "project_id": "P1", "role": "contractor", "name_as_typed": "甲建筑",
           "credit_code": "91150203MA0N00000X", "status": "resolved"},
          {"run_date": D, "project_id": "P1", "role": "builder", "name_as_typed": "乙置业",
           "credit_code": None, "status": "absent"},
          {"run_date": PREVIOUS, "project_id": "P2", "role": "contractor",
           "name_as_typed": "昨夜的名字", "credit_code": "X", "status": "resolved"})
    columns = ("project_id", "rule", "severity", "list_order", "district_code", "project_name",
               "contractor_name", "contractor_credit_code", "builder_name",
               "builder_credit_code")
    # District by district, each district's flags in list order.
    assert rows_of(engine, "open_flags", columns, run_date=D, previous_night=None,
                   **ESCALATION) == [
        ("P4", "CR1", "red", 1, "150202", "P4工程", None, None, None, None),
        ("P2", "WA1", "red", 3, "150202", "P2工程", None, None, None, None),
        ("P4", "WA1", "red", 4, "150202", "P4工程", None, None, None, None),
        ("P3", "WA2", "orange", 5, "150202", "P3工程", None, None, None, None),
        ("P1", "WD1", "red", 6, "150202", "P1工程", "甲建筑", "91150203MA0N00000X", "乙置业",
         None),
        ("P1", "WA2", "yellow", 7, "150202", "P1工程", "甲建筑", "91150203MA0N00000X",
         "乙置业", None),
        ("P9", "WA1", "red", 2, "150203", "P9工程", None, None, None, None),
    ]


# sql/marts/resolved_flags.sql

def test_resolved_since_the_previous_night_where_it_was_last_open(engine):
    given(engine, "flag_night",
          flag("P1", "WA1", days_before(9), night=PREVIOUS, district="150203"),
          flag("P2", "WA1", days_before(9), night=PREVIOUS),
          flag("P2", "WA1", days_before(9)),
          flag("P3", "WD1", days_before(4), night=days_before(2)))  # not on the previous night
    columns = ("project_id", "rule", "raised_on", "district_code", "project_name")
    assert rows_of(engine, "resolved_flags", columns, run_date=D, previous_night=PREVIOUS) == [
        ("P1", "WA1", "2026-11-12", "150203", "P1工程")]
    assert rows_of(engine, "resolved_flags", columns, run_date=D, previous_night=None) == []


# sql/marts/flag_summary.sql

FIGURES = ("area_kind", "area_code", "area_name", "parent_code", "rule", "listed", "red",
           "orange", "yellow", "new", "overdue", "overdue_red", "resolved", "flags",
           "flags_new", "flags_overdue", "exempted", "false_positive")


def test_figures_per_district_city_and_province_and_rule(engine):
    given(engine, "night_project",
          project("150202"), project("150202", "P150202-2"), project("150203"),
          project("150921"), project("150981"))
    given(engine, "roster_district",
          {"district_code": "150921", "district_name": "卓资县", "city_code": "159900",
           "city_name": "试点市"},
          {"district_code": "150202", "district_name": "东河区", "city_code": "150200",
           "city_name": "包头市"})
    given(engine, "flag_night",
          flag("A", "WA1", days_before(20), "red"),  # overdue red
          flag("A", "WA2", D, "yellow"),  # new
          flag("B", "WA1", days_before(3), "orange", district="150203"),
          flag("C", "WA1", days_before(3), "orange", district="150921"),  # exempted
          flag("E", "WD1", days_before(30), "red", district="150921"),  # false positive
          flag("A", "WA1", days_before(20), night=PREVIOUS),
          flag("B", "WA1", days_before(3), night=PREVIOUS, district="150203"),
          flag("C", "WA1", days_before(3), night=PREVIOUS, district="150921"),
          flag("E", "WD1", days_before(30), night=PREVIOUS, district="150921"),
          flag("F", "WA2", days_before(9), night=PREVIOUS, district="150203"),  # resolved
          flag("G", "WA1", days_before(9), night=PREVIOUS, district="150999"))  # resolved,
    # in a district with no project tonight: the province counts it, no city does
    given(engine, "disposition",
          disposition("C", "WA1", days_before(3), "exempted", until=D),
          disposition("E", "WD1", days_before(30), "false_positive"))
    found = rows_of(engine, "flag_summary", FIGURES, run_date=D, previous_night=PREVIOUS,
                    **ESCALATION)
    assert [row for row in found if row[4] == ""] == [
        ("province", "", None, None, "", 3, 1, 1, 1, 1, 1, 1, 2, 5, 1, 2, 1, 1),
        ("city", "150200", "包头市", "", "", 3, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 0, 0),
        ("city", "150900", None, "", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        ("city", "159900", "试点市", "", "", 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 1, 1),
        ("district", "150202", "东河区", "150200", "", 2, 1, 0, 1, 1, 1, 1, 0, 2, 1, 1, 0, 0),
        ("district", "150203", None, "150200", "", 1, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0),
        ("district", "150921", "卓资县", "159900", "", 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 1,
         1),
        ("district", "150981", None, "150900", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ]
    assert [row for row in found if row[:2] == ("province", "") and row[4]] == [
        ("province", "", None, None, "WA1", 2, 1, 1, 0, 0, 1, 1, 1, 3, 0, 1, 1, 0),
        ("province", "", None, None, "WA2", 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0),
        ("province", "", None, None, "WD1", 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1),
    ]


# sql/marts/blacklist_entries.sql

def list_entry(entry_id: str, night: dt.date = D, **over) -> dict:
    return {"run_date": night, "entry_id": entry_id, "payload_hash": "h",
            "subject_type": "organization", "subject_name": "某建筑公司",
            "credit_code": "91150203MA0N00000X", "person_id_masked": None,
            "list_type": "dishonest", "cause": "拖欠农民工工资", "decision_no": "1号",
            "listing_authority": "包头市人社局", "listed_on": dt.date(2026, 1, 1),
            "expires_on": dt.date(2029, 1, 1), "removed_on": None, "removal_reason": None,
            **over}


def test_the_dishonest_entries_that_apply_on_the_night(engine):
    given(engine, "night_list_entry",
          list_entry("A"),
          list_entry("B", subject_type="person", credit_code=None,
                     person_id_masked="150203******1234"),
          list_entry("C", list_type="major_violation"),
          list_entry("D", listed_on=dt.date(2026, 11, 22)),
          list_entry("E", expires_on=D),
          list_entry("F", removed_on=D, removal_reason="信用修复"),
          list_entry("G", removed_on=dt.date(2026, 11, 22)),
          list_entry("H", night=PREVIOUS))
    columns = ("entry_id", "subject_type", "person_id_masked", "listed_on", "expires_on")
    assert rows_of(engine, "blacklist_entries", columns, run_date=D) == [
        ("A", "organization", None, "2026-01-01", "2029-01-01"),
        ("B", "person", "150203******1234", "2026-01-01", "2029-01-01"),
        ("G", "organization", None, "2026-01-01", "2029-01-01"),
    ]


# sql/marts/blacklist_changes.sql

def exported(entry_id: str, night: dt.date, row_hash: str = "h1", **over) -> dict:
    entry = list_entry(entry_id, night, **over)
    for column in ("payload_hash", "removed_on", "removal_reason"):
        del entry[column]
    return {**entry, "row_hash": row_hash}


CHANGES = ("change", "entry_id", "reason", "effective_on", "previous_subject_name",
           "previous_decision_no", "previous_listed_on", "previous_expires_on")


def test_the_change_since_the_previous_export_with_reasons_dates_and_previous_fields(engine):
    given(engine, "blacklist_export",
          *(exported(e, PREVIOUS) for e in ("Kept", "Changed", "Deleted", "Removed", "Blank",
                                            "Expired", "Moved", "Lapsed")),
          exported("Kept", D), exported("Changed", D, "h2", decision_no="9号"),
          exported("Added", D, listed_on=dt.date(2026, 11, 18)))
    given(engine, "night_list_entry",
          list_entry("Kept"), list_entry("Changed", decision_no="9号"),
          list_entry("Added", listed_on=dt.date(2026, 11, 18)),
          list_entry("Removed", removed_on=dt.date(2026, 11, 21), removal_reason="信用修复"),
          list_entry("Blank", removed_on=dt.date(2026, 11, 19), removal_reason=""),
          list_entry("Expired", expires_on=dt.date(2026, 11, 21)),
          list_entry("Moved", list_type="major_violation"),
          list_entry("Lapsed", listed_on=dt.date(2026, 12, 1)))
    previous = ("某建筑公司", "1号", "2026-01-01", "2029-01-01")
    assert rows_of(engine, "blacklist_changes", CHANGES, run_date=D,
                   previous_export=PREVIOUS) == [
        ("added", "Added", "now on the list", "2026-11-18", None, None, None, None),
        ("removed", "Blank", "removed on 2026-11-19: no reason given", "2026-11-19", *previous),
        ("changed", "Changed", "listing details changed at the source", "2026-11-21",
         *previous),
        ("removed", "Deleted", "deleted at the source", "2026-11-21", *previous),
        ("removed", "Expired", "expired on 2026-11-21", "2026-11-21", *previous),
        ("removed", "Lapsed", "no longer applies", "2026-11-21", *previous),
        ("removed", "Moved", "now a major_violation entry, not on the joint-punishment list",
         "2026-11-21", *previous),
        ("removed", "Removed", "removed on 2026-11-21: 信用修复", "2026-11-21", *previous),
    ]


def test_the_first_export_adds_everything(engine):
    given(engine, "blacklist_export", exported("A", D), exported("B", D))
    assert rows_of(engine, "blacklist_changes", CHANGES[:4], run_date=D,
                   previous_export=None) == [
        ("added", "A", "first export", "2026-01-01"), ("added", "B", "first export", "2026-01-01")]


@pytest.fixture
def before_fields(warehouse_url):
    """A warehouse at the schema version before exported rows kept their fields."""
    from wageguard.warehouse.engine import make_engine
    from wageguard.warehouse.migrate import migrate

    eng = make_engine(warehouse_url)
    migrate(eng, "0014")
    yield eng
    eng.dispose()


def test_an_export_recorded_before_its_fields_were_kept_gets_them_from_its_night(before_fields):
    from wageguard.warehouse.migrate import migrate

    given(before_fields, "night_list_entry", list_entry("A", PREVIOUS, payload_hash="ab" * 32))
    given(before_fields, "blacklist_export",
          {"run_date": PREVIOUS, "entry_id": "A", "row_hash": "h1"},
          {"run_date": days_before(2), "entry_id": "A", "row_hash": "h1"})  # snapshot gone
    migrate(before_fields)
    given(before_fields, "blacklist_export", exported("B", D))
    with before_fields.connect() as conn:
        kept = conn.execute(text("SELECT run_date, subject_name, listed_on FROM blacklist_export "
                                 "WHERE entry_id = 'A' ORDER BY run_date")).all()
    assert [(str(r.run_date), r.subject_name, r.listed_on and str(r.listed_on))
            for r in kept] == [("2026-11-19", None, None),
                               ("2026-11-20", "某建筑公司", "2026-01-01")]
    assert rows_of(before_fields, "blacklist_changes", CHANGES[:5], run_date=D,
                   previous_export=PREVIOUS)[0] == (
        "removed", "A", "deleted at the source", "2026-11-21", "某建筑公司")


# sql/marts/night_areas.sql

def test_the_areas_of_the_night_and_the_districts_each_holds(engine):
    given(engine, "night_project",
          project("150202"), project("150202", "P150202-2"), project("150203"),
          project("150921"),
          {**project("150204"), "run_date": PREVIOUS})  # no project tonight: no area
    given(engine, "roster_district",
          {"district_code": "150921", "district_name": "卓资县", "city_code": "159900",
           "city_name": "试点市"},
          {"district_code": "150202", "district_name": "东河区", "city_code": "150200",
           "city_name": "包头市"})
    columns = ("area_kind", "area_code", "area_name", "parent_code", "district_code")
    assert rows_of(engine, "night_areas", columns, run_date=D) == [
        ("city", "150200", "包头市", "", "150202"),
        ("city", "150200", "包头市", "", "150203"),
        ("city", "159900", "试点市", "", "150921"),
        ("district", "150202", "东河区", "150200", "150202"),
        ("district", "150203", None, "150200", "150203"),
        ("district", "150921", "卓资县", "159900", "150921"),
        ("province", "", None, None, "150202"),
        ("province", "", None, None, "150203"),
        ("province", "", None, None, "150921"),
    ]


# sql/marts/flag_trend.sql

def published(*nights: dt.date) -> list[dict]:
    return [{"run_date": night, "knowledge_cutoff": "c", "params": "{}",
             "first_published_at": "t", "last_published_at": "t"} for night in nights]


def test_the_trend_counts_each_published_night_and_tonight_per_area(engine):
    first, before = days_before(2), days_before(1)
    given(engine, "night_project", project("150202"), project("150203"))
    given(engine, "roster_district",
          {"district_code": "150202", "district_name": "东河区", "city_code": "150200",
           "city_name": "包头市"})
    given(engine, "night", *published(days_before(40), first, before, D + dt.timedelta(days=1)))
    given(engine, "flag_night",
          flag("A", "WA1", first, night=first),
          flag("A", "WA1", first, night=before),
          flag("B", "WD2", before, "orange", night=before, district="150203"),
          flag("E", "WA1", before, night=before, district="150921"),  # no project tonight
          flag("A", "WA1", first),  # overdue or not, it counts at its rule's level
          flag("C", "WA2", D, "yellow"),
          flag("X", "WA1", days_before(3), night=days_before(3)),  # before the first night
          flag("Y", "WA1", days_before(40), night=days_before(40)),
          flag("Z", "WA1", D, night=D + dt.timedelta(days=1)))  # a later night
    given(engine, "disposition", disposition("C", "WA2", D, "false_positive"))
    columns = ("area_kind", "area_code", "night", "red", "orange", "yellow")
    nights = [first.isoformat(), before.isoformat(), D.isoformat()]
    both = [(1, 0, 0), (1, 1, 0), (1, 0, 1)]
    assert rows_of(engine, "flag_trend", columns, run_date=D, first_night=first) == [
        *(("city", "150200", n, *c) for n, c in zip(nights, both, strict=True)),
        *(("district", "150202", n, *c) for n, c in zip(nights, [(1, 0, 0), (1, 0, 0),
                                                                  (1, 0, 1)], strict=True)),
        *(("district", "150203", n, *c) for n, c in zip(nights, [(0, 0, 0), (0, 1, 0),
                                                                  (0, 0, 0)], strict=True)),
        *(("province", "", n, *c) for n, c in zip(nights, both, strict=True)),
    ]


def test_the_trend_of_a_first_night_is_that_night_even_without_flags(engine):
    given(engine, "night_project", project("150202"))
    assert rows_of(engine, "flag_trend", ("area_kind", "area_code", "night", "red"),
                   run_date=D, first_night=days_before(29)) == [
        ("city", "150200", D.isoformat(), 0), ("district", "150202", D.isoformat(), 0),
        ("province", "", D.isoformat(), 0)]


# sql/marts/top_contractors.sql

def contractor(project_id: str, name: str | None, code: str | None) -> dict:
    return {"run_date": D, "project_id": project_id, "role": "contractor", "name_as_typed": name,
            "credit_code": code, "status": "resolved" if code else "absent"}


def test_the_contractors_with_the_most_red_flags_on_the_lists_of_each_area(engine):
    c1, c2, c3 = "911502000000000001", "911502000000000002", "911502000000000003"
    given(engine, "night_project", project("150202"), project("150203"))
    given(engine, "flag_night",
          flag("P1", "WD1", D), flag("P1", "WA1", D),
          flag("P3", "WA1", D), flag("P4", "WA1", D),
          flag("P5", "WD2", days_before(20), "orange"),  # overdue: red
          flag("P6", "WD1", D),  # exempted: off the lists
          flag("P8", "WA2", D, "yellow"),
          flag("P2", "WD1", D, district="150203"),
          flag("P7", "WD1", D, district="150203"))  # no contractor typed
    given(engine, "night_party",
          contractor("P1", "甲建筑", c1), contractor("P2", "甲建筑公司", c1),
          contractor("P3", "乙工程", None), contractor("P4", "乙工程", None),
          contractor("P5", "丙建设", c2), contractor("P6", "丁建设", c3),
          contractor("P8", "戊建设", c3))
    given(engine, "disposition", disposition("P6", "WD1", D, "exempted", until=D))
    columns = ("area_kind", "area_code", "place", "contractor_name", "contractor_credit_code",
               "red", "projects")
    assert rows_of(engine, "top_contractors", columns, run_date=D, previous_night=None,
                   top_contractors=2, **ESCALATION) == [
        ("city", "150200", 1, "甲建筑", c1, 3, 2),
        ("city", "150200", 2, "乙工程", None, 2, 2),
        ("district", "150202", 1, "乙工程", None, 2, 2),  # unresolved first on a tie
        ("district", "150202", 2, "甲建筑", c1, 2, 1),
        ("district", "150203", 1, "", None, 1, 1),
        ("district", "150203", 2, "甲建筑公司", c1, 1, 1),
        ("province", "", 1, "甲建筑", c1, 3, 2),
        ("province", "", 2, "乙工程", None, 2, 2),
    ]


# exports/marts.py: a mart materialised for a while

def test_a_materialised_mart_reads_as_computed_in_place_and_only_with_its_parameters(engine):
    from wageguard.exports.marts import materialised

    test_the_contractors_with_the_most_red_flags_on_the_lists_of_each_area(engine)
    params = {"run_date": D, "previous_night": None, "top_contractors": 2, **ESCALATION}

    def every_mart() -> dict[str, list]:
        with engine.connect() as conn:
            return {mart: [tuple(row.values()) for row in select(conn, mart, params)]
                    for mart in ("open_flags", "flag_summary", "top_contractors")}

    def materialised_marts() -> dict[str, list]:
        with engine.begin() as conn, materialised(conn, "open_flags", params):
            found = {mart: [tuple(row.values()) for row in select(conn, mart, params)]
                     for mart in ("open_flags", "flag_summary", "top_contractors")}
            with pytest.raises(ValueError, match="materialised with"):
                select(conn, "flag_summary", {**params, "escalation_days": 30})
            return found

    in_place = every_mart()
    assert len(in_place["open_flags"]) == 9 and in_place["top_contractors"]
    assert materialised_marts() == in_place
    assert every_mart() == in_place, "the block's end takes the table away"
    assert materialised_marts() == in_place, "and it can be made again"
