"""Why a flag was raised: the flag, the facts it was computed from, and every
source record behind it traced to the exact payload a source served (its
sha256, the pull that brought it, from where and when)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Connection, text

from wageguard.landing.packing import unpack

# the parties of the flagged project, as resolved that night
_PARTY = ("credit_code IN (SELECT credit_code FROM night_party "
          "WHERE run_date = :d AND project_id = :p)")
# night table, its key columns, and how it relates to the flagged project
_RECORDS = (
    ("projects", "night_project", "project_id", "project_id = :p"),
    ("wage_accounts", "night_account", "account_id", "project_id = :p"),
    ("wage_deposits", "night_deposit", "deposit_id", "project_id = :p"),
    ("realname_monthly", "night_realname_month", "month", "project_id = :p"),
    ("enterprises", "night_enterprise", "credit_code", _PARTY),
    ("list_entries", "night_list_entry", "entry_id", _PARTY),
)


_INVESTMENT_PROJECT = (
    "SELECT investment_code AS record_key, payload_hash FROM investment_project "
    "WHERE bundle_day <= :b AND (valid_to IS NULL OR valid_to > :b) AND code_normalised = :c"
)
_DISBURSEMENTS = (
    "SELECT month AS record_key, payload_hash FROM fund_disbursement "
    "WHERE bundle_day <= :b AND (valid_to IS NULL OR valid_to > :b) AND code_normalised = :c "
    "ORDER BY month"
)


class NoSuchFlag(LookupError):
    pass


def _origin(conn: Connection, payload_hash: bytes) -> dict:
    """The first loaded pull that brought this exact payload; its sha256 in hex."""
    row = conn.execute(
        text(
            "SELECT p.batch_id, p.packed, b.source, b.pulled_at, b.watermark_from, "
            "b.watermark_to, b.bundle_day FROM payload p "
            "JOIN load_batch b ON b.batch_id = p.batch_id WHERE p.payload_hash = :h"
        ),
        {"h": payload_hash},
    ).mappings().first()
    if row is None:
        return {"payload_hash": payload_hash.hex(), "payload": None}
    return {
        "payload_hash": payload_hash.hex(),
        "batch_id": row["batch_id"],
        "source": row["source"],
        "pulled_at": row["pulled_at"],
        "watermark_from": row["watermark_from"],
        "watermark_to": row["watermark_to"],
        "bundle_day": None if row["bundle_day"] is None else str(row["bundle_day"]),
        "payload": json.loads(unpack(conn, row["packed"])),
    }


def explain_flag(conn: Connection, run_date: dt.date, project_id: str, rule: str) -> dict:
    flag = conn.execute(
        text("SELECT base_severity, raised_on, rule_version, detail FROM flag_night "
             "WHERE run_date = :d AND project_id = :p AND rule = :r"),
        {"d": run_date, "p": project_id, "r": rule},
    ).mappings().first()
    if flag is None:
        raise NoSuchFlag(f"no {rule} flag on project {project_id} on night {run_date}: check "
                         "flags.csv of that night for the project and rule")
    night = conn.execute(
        text("SELECT knowledge_cutoff, bundle_day FROM night WHERE run_date = :d"),
        {"d": run_date},
    ).mappings().first()
    parties = conn.execute(
        text("SELECT role, name_as_typed, code_as_typed, credit_code, status, method, detail "
             "FROM night_party WHERE run_date = :d AND project_id = :p ORDER BY role"),
        {"d": run_date, "p": project_id},
    ).mappings().all()
    records: list[dict] = []
    for table, night_table, key, relation in _RECORDS:
        records.extend(
            {"table": table, "key": row.record_key, **_origin(conn, row.payload_hash)}
            for row in conn.execute(
                text(f"SELECT {key} AS record_key, payload_hash FROM {night_table} "
                     f"WHERE run_date = :d AND {relation} ORDER BY {key}"),
                {"d": run_date, "p": project_id},
            )
        )
    link = conn.execute(
        text("SELECT investment_code FROM night_link WHERE run_date = :d AND project_id = :p"),
        {"d": run_date, "p": project_id},
    ).scalar()
    if link and night and night["bundle_day"] is not None:
        for table, sql in (
            ("investment_projects", _INVESTMENT_PROJECT),
            ("fund_disbursements", _DISBURSEMENTS),
        ):
            records.extend(
                {"table": table, "key": row.record_key, **_origin(conn, row.payload_hash)}
                for row in conn.execute(text(sql), {"b": night["bundle_day"], "c": link})
            )
    return {
        "run_date": run_date.isoformat(),
        "project_id": project_id,
        "rule": rule,
        "base_severity": flag["base_severity"],
        "raised_on": str(flag["raised_on"]),
        "rule_version": flag["rule_version"],
        "facts": json.loads(flag["detail"]),
        "knowledge_cutoff": night["knowledge_cutoff"] if night else None,
        "dev_reform_bundle_day": None if not night or night["bundle_day"] is None
        else str(night["bundle_day"]),
        "parties": [dict(p) for p in parties],
        "investment_code": link,
        "source_records": records,
    }
