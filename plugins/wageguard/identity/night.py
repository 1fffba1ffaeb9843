"""Resolving every project party and linking every project to its investment
project, for one night, into night_party and night_link."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Connection, text

from wageguard.db.bulk import write_rows
from wageguard.identity.investment_code import normalise_investment_code
from wageguard.identity.resolve import Register, RegisterEntry

ROLES = ("builder", "contractor")


def load_register(conn: Connection, run_date: dt.date) -> Register:
    rows = conn.execute(
        text(
            "SELECT credit_code, name, former_names, legacy_registration_no "
            "FROM night_enterprise WHERE run_date = :d"
        ),
        {"d": run_date},
    )
    return Register(
        RegisterEntry(
            credit_code=r.credit_code,
            name=r.name or "",
            former_names=tuple(json.loads(r.former_names or "[]")),
            legacy_registration_no=r.legacy_registration_no,
        )
        for r in rows
    )


def resolve_parties(conn: Connection, run_date: dt.date) -> dict[str, int]:
    """Returns how many parties ended in each status. The parties stream from
    the night's projects into night_party: a province's resolutions, each with
    its detail, are never held at once."""
    register = load_register(conn, run_date)
    projects = conn.execute(
        text(
            "SELECT project_id, builder_name, builder_credit_code, contractor_name, "
            "contractor_credit_code FROM night_project WHERE run_date = :d"
        ),
        {"d": run_date},
    )
    counts = {"resolved": 0, "ambiguous": 0, "absent": 0}

    def parties():
        for project_id, builder_name, builder_code, contractor_name, contractor_code in projects:
            for role, name, code in zip(ROLES, (builder_name, contractor_name),
                                        (builder_code, contractor_code), strict=True):
                found = register.resolve(name, code)
                counts[found.status] += 1
                yield (run_date, project_id, role, name, code, found.credit_code,
                       found.status, found.method, found.detail)

    write_rows(conn, "night_party", ("run_date", "project_id", "role", "name_as_typed",
                                     "code_as_typed", "credit_code", "status", "method",
                                     "detail"), parties(), may_exist=False)
    return counts


def link_projects(conn: Connection, run_date: dt.date, bundle_day: dt.date | None) -> int:
    """Links by normalised investment code only, never by name; the code must be
    in the bundle night D uses."""
    if bundle_day is None:
        return 0
    known = {
        r.code_normalised
        for r in conn.execute(
            text(
                "SELECT DISTINCT code_normalised FROM investment_project "
                "WHERE bundle_day <= :b AND (valid_to IS NULL OR valid_to > :b) "
                "AND code_normalised IS NOT NULL"
            ),
            {"b": bundle_day},
        )
    }
    linked = conn.execute(
        text(
            "SELECT project_id, investment_code FROM night_project "
            "WHERE run_date = :d AND investment_code IS NOT NULL"
        ),
        {"d": run_date},
    )

    def links():
        for project_id, typed in linked:
            code = normalise_investment_code(typed)
            if code in known:
                yield (run_date, project_id, code)

    return write_rows(conn, "night_link", ("run_date", "project_id", "investment_code"),
                      links(), may_exist=False)
