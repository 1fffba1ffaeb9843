"""Loading one landed batch into the warehouse, on both backends: what is
written for each kind of record, and the accounting that must hold."""

from __future__ import annotations

import datetime as dt
import json
from typing import NamedTuple

import pytest
from sqlalchemy import text
from wageguard.landing.packing import unpack
from wageguard.landing.store import Batch, Landed, LandedRecords, encoded, land
from wageguard.warehouse.load import load_batch

D = dt.date(2026, 11, 21)
STAMP = "2026-11-20T10:00:00+08:00"


def project(n: int, **changes) -> dict:
    return {
        "project_id": f"ZJ150203-2025-{n:05d}", "investment_code": None, "permit_no": None,
        "name": "某某小区1号楼", "district_code": "150203",
        "builder": {"name": "甲房地产公司", "credit_code": "91150203MA0N00000X"},
        "contractor": {"name": "乙建筑公司", "credit_code": "91150203MA0K00001Y"},
        "contract_amount": "12500000.00", "contract_signed_on": "2025-01-10",
        "started_on": "2025-02-01", "planned_completion_on": "2026-06-30",
        "completed_on": None, "status": "under_construction", "updated_at": STAMP,
        "deleted": False,
    } | changes


class Pull(NamedTuple):
    """A pull as it landed: its batch, and its records that landed."""

    batch: Batch
    landed: LandedRecords

    @property
    def batch_id(self) -> str:
        return self.batch.batch_id


def _land(engine, table: str, records: list, **batch) -> Pull:
    landed = Landed()
    with engine.begin() as conn:
        pulled = land(conn, run_date=D, source_table=table, source="test", records=records,
                      landed=landed, **batch)
    return Pull(pulled, landed.records(records))


def _load(engine, pull: Pull) -> dict:
    return load_batch(engine, pull.batch, pull.landed, max_bad_share=0.5,
                      min_rows_for_share=20)


def test_a_tombstone_is_loaded_by_its_identity_whatever_else_it_carries(engine):
    tombstone = project(2, contract_signed_on="下月", contract_amount="一百万",
                        updated_at="2026-11-20T11:00:00+08:00", deleted=True)
    batch_id = _load(engine, _land(engine, "projects", [project(1), tombstone]))["batch_id"]
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT project_id, updated_at, deleted, contract_signed_on, contract_amount_fen "
            "FROM project_version WHERE batch_id = :b ORDER BY project_id"), {"b": batch_id}).all()
    assert [tuple(r) for r in rows] == [
        ("ZJ150203-2025-00001", STAMP, 0, rows[0].contract_signed_on, 1250000000),
        ("ZJ150203-2025-00002", "2026-11-20T11:00:00+08:00", 1, None, None),
    ]


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_a_pull_streams_through_in_chunks_with_versions_across_them(engine, monkeypatch):
    monkeypatch.setattr("wageguard.warehouse.load.CHUNK", 7)
    records = [project(n) for n in range(1, 31)]
    # Newer versions of the first ten, served pages later, and one bad record.
    records += [project(n, name=f"v2-{n}", updated_at="2026-11-20T12:00:00+08:00")
                for n in range(1, 11)]
    records.append(project(99, contract_amount="n/a"))
    result = _load(engine, _land(engine, "projects", records))
    assert (result["pulled"], result["loaded"], result["quarantined"], result["superseded"]) == (
        41, 30, 1, 10)
    names = _count(engine, "SELECT COUNT(*) FROM project_version WHERE name LIKE 'v2-%'")
    assert names == 10
    with engine.connect() as conn:
        stages = {r[0] for r in conn.execute(text("SELECT stage FROM stage_run"))}
    assert {"validate:projects", "load:projects"} <= stages


def test_records_served_again_unchanged_are_counted_not_landed_or_loaded_again(engine):
    records = [project(n) for n in range(1, 26)]
    first = _load(engine, _land(engine, "projects", records))
    changed = project(3, name="更名后", updated_at="2026-11-21T09:00:00+08:00")
    pull = _land(engine, "projects", [*records, project(26), changed])
    assert _count(engine, "SELECT COUNT(*) FROM payload WHERE batch_id = :b",
                  b=pull.batch_id) == 2, "only the new payloads land"
    again = _load(engine, pull)
    assert (first["pulled"], first["loaded"], first["unchanged"]) == (25, 25, 0)
    assert (again["pulled"], again["loaded"], again["superseded"], again["unchanged"]) == (
        27, 2, 0, 25)
    assert _count(engine, "SELECT COUNT(*) FROM project_version") == 27
    assert _count(engine, "SELECT COUNT(*) FROM payload") == 27, "each distinct payload once"
    with engine.connect() as conn:
        origin = conn.execute(text(
            "SELECT p.batch_id FROM payload p JOIN project_version v "
            "ON v.payload_hash = p.payload_hash WHERE v.project_id = :p"),
            {"p": "ZJ150203-2025-00001"}).scalar()
    assert origin == first["batch_id"], "the evidence names the first pull that brought it"


def test_a_payload_served_twice_in_one_pull_is_kept_once_at_its_first_place(engine):
    # Far enough apart to be landed in different chunks (landing/store.py).
    records = [project(n) for n in range(1, 2501)] + [project(1)]
    pull = _land(engine, "projects", records)
    assert _count(engine, "SELECT COUNT(*) FROM payload") == 2500
    assert _count(engine, "SELECT ordinal FROM payload WHERE payload_hash = :h",
                  h=encoded([project(1)])[1][0]) == 0
    assert _load(engine, pull)["superseded"] == 1


def test_a_refused_pull_is_taken_as_new_when_served_again(engine):
    from wageguard.validate import BatchRejected

    bad = [project(n, contract_amount="n/a") for n in range(1, 25)] + [project(30)]
    refused = _land(engine, "projects", bad)
    with pytest.raises(BatchRejected):
        _load(engine, refused)
    # What the refused pull brought is kept, naming it, for the engineers to read.
    assert _count(engine, "SELECT COUNT(*) FROM payload WHERE batch_id = :b",
                  b=refused.batch_id) == 25
    again = _load(engine, _land(engine, "projects", [project(30)]))
    assert (again["loaded"], again["unchanged"]) == (1, 0)
    assert _count(engine, "SELECT COUNT(*) FROM payload WHERE batch_id = :b",
                  b=again["batch_id"]) == 1, "the evidence names the loaded pull"
    served_again = _load(engine, _land(engine, "projects", [project(30)]))
    assert (served_again["loaded"], served_again["unchanged"]) == (0, 1)


def _bundle(engine, day, rows) -> dict:
    return _load(engine, _land(engine, "fund_disbursements", rows, bundle_day=day))


def _valid_in(engine, day) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT month, labour_fen FROM fund_disbursement WHERE bundle_day <= :d "
            "AND (valid_to IS NULL OR valid_to > :d) ORDER BY month"), {"d": day})]


def test_a_bundle_keeps_what_changed_and_its_rows_stay_valid_while_unchanged(engine):
    def row(month, labour):
        return {"项目代码": "2025-150203-47-01-000001", "拨付月份": month,
                "计划拨付金额": "100", "实际拨付金额": "80.5", "其中人工费用": labour}

    day1, day2, day3 = (dt.date(2026, 11, d) for d in (18, 19, 20))
    first = _bundle(engine, day1, [row("202509", "1"), row("202510", "2"), row("202511", "3")])
    again = _bundle(engine, day2, [row("202509", "1"), row("202510", "2"), row("202511", "3")])
    moved = _bundle(engine, day3, [row("202509", "1"), row("202510", "5"), row("202512", "4")])
    assert (first["loaded"], again["loaded"], again["unchanged"]) == (3, 0, 3)
    assert (moved["pulled"], moved["loaded"], moved["unchanged"]) == (3, 2, 1)
    assert _count(engine, "SELECT COUNT(*) FROM fund_disbursement") == 5, "the change, kept"
    assert _valid_in(engine, day2) == [("2025-09", 10000_00), ("2025-10", 20000_00),
                                       ("2025-11", 30000_00)]
    assert _valid_in(engine, day3) == [("2025-09", 10000_00), ("2025-10", 50000_00),
                                       ("2025-12", 40000_00)]
    bad = row("202601", "待定")
    quarantined = _bundle(engine, day3 + dt.timedelta(days=1), [row("202509", "1"), bad])
    kept_out = _bundle(engine, day3 + dt.timedelta(days=2), [row("202509", "1"), bad])
    assert (quarantined["quarantined"], kept_out["quarantined"], kept_out["unchanged"]) == (
        1, 0, 2), "a row quarantined before is judged once"
    older = _bundle(engine, day2, [row("202509", "9")])
    assert (older["loaded"], older["unchanged"]) == (0, 1), "an older bundle moves nothing"
    assert _valid_in(engine, day3)[0] == ("2025-09", 10000_00)
    assert _valid_in(engine, day3 + dt.timedelta(days=2)) == [("2025-09", 10000_00)]


def _indexes(engine, table: str) -> dict[str, list]:
    from sqlalchemy import inspect

    return {index["name"]: index["column_names"] for index in inspect(engine).get_indexes(table)}


def test_the_first_bundle_fills_its_table_with_the_indexes_built_after(engine):
    from wageguard.validate import BatchRejected

    def row(n, labour="1"):
        return {"项目代码": f"2025-150203-47-01-{n:06d}", "拨付月份": "202509",
                "计划拨付金额": "100", "实际拨付金额": "80.5", "其中人工费用": labour}

    indexes = _indexes(engine, "fund_disbursement")
    assert {"fund_disbursement_open", "fund_disbursement_code_valid"} <= indexes.keys()
    day = dt.date(2026, 11, 18)
    with pytest.raises(BatchRejected):  # a failed first fill leaves the indexes as they were
        _bundle(engine, day, [row(n, "待定") for n in range(30)])
    assert _indexes(engine, "fund_disbursement") == indexes
    assert _bundle(engine, day, [row(n) for n in range(30)])["loaded"] == 30
    assert _indexes(engine, "fund_disbursement") == indexes
    with engine.connect() as conn:  # built over the rows that went in without them
        open_rows = conn.execute(text(
            "SELECT COUNT(*) FROM fund_disbursement INDEXED BY fund_disbursement_open "
            "WHERE payload_hash > '' AND valid_to IS NULL") if engine.dialect.name == "sqlite"
            else text("SELECT COUNT(*) FROM fund_disbursement WHERE valid_to IS NULL")).scalar()
    assert open_rows == 30


def test_a_rejected_pull_loads_nothing_and_keeps_its_quarantine_as_landed(engine):
    from wageguard.validate import BatchRejected

    records = [project(n, contract_amount="n/a") for n in range(1, 25)] + [project(30)]
    pull = _land(engine, "projects", records)
    with pytest.raises(BatchRejected, match="24 of 25 records quarantined"):
        _load(engine, pull)
    assert _count(engine, "SELECT COUNT(*) FROM project_version") == 0
    assert _count(engine, "SELECT COUNT(*) FROM stage_run") == 0
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status, quarantined, validation_results FROM "
                                   "load_batch WHERE batch_id = :b"), {"b": pull.batch_id}).one()
        kept = conn.execute(text(
            "SELECT q.reasons, q.payload, p.packed FROM quarantine q "
            "JOIN payload p ON p.payload_hash = q.payload_hash")).all()
        as_landed = [row.payload == unpack(conn, row.packed) for row in kept]
    assert (status.status, status.quarantined) == ("rejected", 24)
    results = {kind: result for kind, kwargs, _success, result, severity
               in json.loads(status.validation_results)
               if kwargs.get("column") == "contract_amount" and severity == "critical"}
    assert results["expect_column_values_to_match_regex"]["unexpected_count"] == 24
    assert len(kept) == 24 and all(as_landed)
    assert all("expect_column_values_to_match_regex(contract_amount)" in row.reasons
               for row in kept)


def test_a_pull_whose_source_renamed_a_rule_field_loads_nothing(engine):
    from wageguard.validate import BatchRejected

    records = [{("start_date" if k == "started_on" else k): v for k, v in project(n).items()}
               for n in range(1, 4)]
    pull = _land(engine, "projects", records)
    with pytest.raises(BatchRejected, match="none of the 3 records served has started_on"):
        _load(engine, pull)
    assert _count(engine, "SELECT COUNT(*) FROM project_version") == 0
    assert _count(engine, "SELECT COUNT(*) FROM source_watermark") == 0
    assert _count(engine, "SELECT COUNT(*) FROM load_batch WHERE status = 'rejected'") == 1


def test_warned_records_are_loaded_without_the_breached_value_and_their_breach_kept(engine):
    records = [project(1, name=" "), project(2, completed_on="31/12/2025"), project(3)]
    result = _load(engine, _land(engine, "projects", records))
    assert (result["loaded"], result["quarantined"], result["warned"]) == (3, 0, 2)
    with engine.connect() as conn:
        kept = conn.execute(text(
            "SELECT record_key, expectation, column_name, severity, value FROM record_warning "
            "ORDER BY record_key, expectation")).all()
        completed = conn.execute(text(
            "SELECT completed_on FROM project_version WHERE project_id = :p"),
            {"p": "ZJ150203-2025-00002"}).scalar()
    assert [tuple(r) for r in kept] == [
        ("ZJ150203-2025-00001", "expect_column_values_to_not_be_null(name)", "name",
         "warning", None),
        ("ZJ150203-2025-00002", "expect_column_values_to_match_regex(completed_on)",
         "completed_on", "warning", "31/12/2025"),
        ("ZJ150203-2025-00002", "expect_column_values_to_match_strftime_format(completed_on)",
         "completed_on", "warning", "31/12/2025"),
    ]
    assert completed is None, "the breached value is not loaded"
    again = _load(engine, _land(engine, "projects", records))
    assert (again["unchanged"], again["warned"]) == (3, 0), "served again, judged once"
    assert _count(engine, "SELECT COUNT(*) FROM record_warning") == 3


def test_a_bundles_landed_rows_are_held_against_the_open_rows_by_index(tmp_path):
    """SQLite compares two columns by index only when both are declared alike:
    a landed row's hash against a version's must not scan the version table
    once per landed row (a quarter of a million of each at 50,000 projects)."""
    from wageguard.tables import BY_NAME
    from wageguard.warehouse import load
    from wageguard.warehouse.engine import make_engine
    from wageguard.warehouse.migrate import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    spec = BY_NAME["fund_disbursements"]
    with engine.connect() as conn, load._landed_rows(conn, [(0, bytes(32))]):
        plan = " | ".join(str(row[-1]) for row in conn.execute(
            text(f"EXPLAIN QUERY PLAN {load._not_judged(spec)}"), {"t": spec.name}))
    engine.dispose()
    assert "SEARCH v USING" in plan and "SCAN v" not in plan, plan
    assert "SEARCH q USING" in plan, plan
