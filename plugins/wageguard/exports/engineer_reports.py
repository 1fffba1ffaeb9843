"""The data engineers' files: resolution.csv, links.csv and run_report.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import Connection, bindparam, text

from wageguard.exports.files import write_csv

RESOLUTION_HEADER = [
    "project_id", "role", "credit_code", "status", "method", "name_as_typed", "code_as_typed",
    "detail",
]


def write_resolution(conn: Connection, path: Path, run_date: dt.date) -> int:
    rows = conn.execute(
        text(
            "SELECT project_id, role, credit_code, status, method, name_as_typed, "
            "code_as_typed, detail FROM night_party WHERE run_date = :d "
            "ORDER BY project_id, role"
        ),
        {"d": run_date},
    ).all()
    return write_csv(path, RESOLUTION_HEADER, [list(r) for r in rows])


def write_links(conn: Connection, path: Path, run_date: dt.date) -> int:
    rows = conn.execute(
        text("SELECT project_id, investment_code FROM night_link WHERE run_date = :d "
             "ORDER BY project_id"),
        {"d": run_date},
    ).all()
    return write_csv(path, ["project_id", "investment_code"], [list(r) for r in rows])


def source_counts(conn: Connection, batch_ids: list[str]) -> dict[str, dict]:
    """Per source table of this run: pulled = loaded + quarantined + superseded;
    `warned` of the loaded records break descriptive checks, counted per check
    in `warnings`."""
    tables: dict[str, dict] = {}
    if not batch_ids:
        return tables
    query = text(
        "SELECT batch_id, source_table, pulled, loaded, quarantined, superseded, warned, "
        "watermark_from, watermark_to, validation_summary FROM load_batch "
        "WHERE batch_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    for r in conn.execute(query, {"ids": batch_ids}).mappings():
        summary = json.loads(r["validation_summary"] or "{}")
        tables[r["source_table"]] = {
            "batch_id": r["batch_id"],
            "pulled": r["pulled"],
            "loaded": r["loaded"],
            "quarantined": r["quarantined"],
            "superseded": r["superseded"],
            "warned": r["warned"] or 0,
            "warnings": summary.get("warnings", {}),
            "watermark_from": r["watermark_from"],
            "watermark_to": r["watermark_to"],
        }
    return dict(sorted(tables.items()))


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
