"""The data engineers' files: resolution.csv, links.csv and run_report.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import Connection, text

from wageguard.db.bulk import stream_rows
from wageguard.exports.files import write_csv

RESOLUTION_HEADER = [
    "project_id", "role", "credit_code", "status", "method", "name_as_typed", "code_as_typed",
    "detail",
]


def write_resolution(conn: Connection, path: Path, run_date: dt.date) -> int:
    return write_csv(path, RESOLUTION_HEADER, stream_rows(conn, text(
        "SELECT project_id, role, credit_code, status, method, name_as_typed, "
        "code_as_typed, detail FROM night_party WHERE run_date = :d ORDER BY project_id, role"),
        {"d": run_date}), for_spreadsheets=True)


def write_links(conn: Connection, path: Path, run_date: dt.date) -> int:
    return write_csv(path, ["project_id", "investment_code"], stream_rows(conn, text(
        "SELECT project_id, investment_code FROM night_link WHERE run_date = :d "
        "ORDER BY project_id"), {"d": run_date}), for_spreadsheets=True)


def source_counts(conn: Connection, run_date: dt.date, cutoff: str) -> dict[str, dict]:
    """Per source table, the pulls behind night D, as the board counts them
    (sql/exports/dashboard_pulls.sql): every pull of D loaded by the night's
    knowledge cutoff, a failed attempt's included and a re-run's own left out,
    summed, with their batch ids. pulled = loaded + quarantined + superseded +
    unchanged (served again as the warehouse held them); `warned` of the loaded
    records break descriptive checks, counted per check in `warnings`."""
    summed = ("pulled", "loaded", "quarantined", "superseded", "unchanged", "warned")
    tables: dict[str, dict] = {}
    rows = conn.execute(text(
        "SELECT batch_id, source_table, pulled, loaded, quarantined, superseded, unchanged, "
        "warned, watermark_from, watermark_to, validation_summary FROM load_batch "
        "WHERE run_date = :d AND status = 'loaded' AND loaded_at <= :cutoff "
        "ORDER BY source_table, loaded_at, batch_id"), {"d": run_date, "cutoff": cutoff})
    for r in rows.mappings():
        table = tables.setdefault(r["source_table"], {
            "batch_ids": [], **dict.fromkeys(summed, 0), "warnings": {},
            "watermark_from": r["watermark_from"]})
        table["batch_ids"].append(r["batch_id"])
        for count in summed:
            table[count] += r[count] or 0
        for check, n in json.loads(r["validation_summary"] or "{}").get("warnings", {}).items():
            table["warnings"][check] = table["warnings"].get(check, 0) + n
        table["watermark_to"] = r["watermark_to"]
    return tables


def stage_timings(conn: Connection, run_date: dt.date) -> dict[str, float]:
    return {
        r.stage: round(r.seconds, 3)
        for r in conn.execute(
            text("SELECT stage, seconds FROM stage_run WHERE run_date = :d ORDER BY started_at"),
            {"d": run_date},
        )
    }


def write_run_report(path: Path, report: dict) -> None:
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n",
                    encoding="utf-8")
