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
    """Per source table of this run: pulled = loaded + quarantined + superseded."""
    tables: dict[str, dict] = {}
    if not batch_ids:
        return tables
    query = text(
        "SELECT batch_id, source_table, pulled, loaded, quarantined, superseded, "
        "watermark_from, watermark_to FROM load_batch WHERE batch_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    for r in conn.execute(query, {"ids": batch_ids}).mappings():
        tables[r["source_table"]] = {
            "batch_id": r["batch_id"],
            "pulled": r["pulled"],
            "loaded": r["loaded"],
            "quarantined": r["quarantined"],
            "superseded": r["superseded"],
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


def write_data_docs(conn: Connection, folder: Path, batch_ids: list[str]) -> int:
    """The GX Data Docs page of every pull of this run, and an index of them."""
    import html

    if not batch_ids:
        return 0
    query = text(
        "SELECT source_table, status, pulled, loaded, quarantined, superseded, "
        "validation_docs FROM load_batch WHERE batch_id IN :ids ORDER BY source_table"
    ).bindparams(bindparam("ids", expanding=True))
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for r in conn.execute(query, {"ids": batch_ids}).mappings():
        if not r["validation_docs"]:
            items.append(f"<li>{html.escape(r['source_table'])}: nothing to validate "
                         f"({r['pulled']} records pulled)</li>")
            continue
        page = f"{r['source_table']}.html"
        (folder / page).write_text(r["validation_docs"], encoding="utf-8")
        items.append(
            f'<li><a href="{page}">{html.escape(r["source_table"])}</a>: {r["status"]}, '
            f"pulled {r['pulled']}, loaded {r['loaded']}, quarantined {r['quarantined']}, "
            f"superseded {r['superseded']}</li>")
    (folder / "index.html").write_text(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>wageguard: validation "
        "of this run</title></head><body><h1>Great Expectations validation of each pull"
        "</h1><ul>" + "".join(items) + "</ul></body></html>\n", encoding="utf-8")
    return len(items)
