"""Evaluating every rule for night D and carrying each flag's identity across
nights (rules.md, "Flag lifecycle").

A flag is (project_id, rule). It keeps the raised_on of the previous published
night while the condition holds; a night where it does not hold ends it, and a
later return is a new occurrence."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal

from sqlalchemy import Connection, text

from wageguard.rules.catalogue import Rule
from wageguard.sources.rest_feeds import closed_months
from wageguard.warehouse.bulk import refresh_statistics
from wageguard.warehouse.sqlfiles import execute_many, read_sql, statements, used_params
from wageguard.warehouse.values import as_date

log = logging.getLogger(__name__)


def bound_params(run_date: dt.date, bundle_day: dt.date | None, params: dict) -> dict:
    """Rules compare record dates with dates computed here, and ratios as exact
    integer fractions, so the SQL needs no dialect-specific arithmetic."""
    days = dt.timedelta
    labour_months = closed_months(run_date, params["labour.missing_months"],
                                  params["month_closes_on_day"])
    pay_num, pay_den = Decimal(params["pay.min_share"]).as_integer_ratio()
    rate_num, rate_den = Decimal(params["realname.min_update_rate"]).as_integer_ratio()
    return {
        "run_date": run_date,
        "bundle_day": bundle_day,
        "wa1_signed_before": run_date - days(params["account.open_within_days"]),
        "wa2_opened_before": run_date - days(params["account.file_within_days"]),
        "wd1_started_before": run_date - days(params["deposit.due_days_after_start"]),
        "wd3_lapses_by": run_date + days(params["deposit.lapse_warning_days"]),
        "gi1_first_month": labour_months[-1],
        "gi1_last_month": labour_months[0],
        "closed_month": closed_months(run_date, 1, params["month_closes_on_day"])[0],
        "pay_share_num": pay_num, "pay_share_den": pay_den,
        "rn1_rate_num": rate_num, "rn1_rate_den": rate_den,
    }


def previous_night(conn: Connection, run_date: dt.date) -> dt.date | None:
    return as_date(conn.execute(
        text("SELECT MAX(run_date) FROM night WHERE run_date < :d"), {"d": run_date}
    ).scalar())


def _jsonable(value):
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    return value


def evaluate_rules(
    conn: Connection, run_date: dt.date, bundle_day: dt.date | None, rules: list[Rule],
    params: dict,
) -> dict[str, int]:
    """Replaces night D's flags; returns the count per rule."""
    previous = previous_night(conn, run_date)
    raised_before = {}
    if previous is not None:
        raised_before = {
            (r.project_id, r.rule): r.raised_on
            for r in conn.execute(
                text("SELECT project_id, rule, raised_on FROM flag_night WHERE run_date = :d"),
                {"d": previous},
            )
        }
    conn.execute(text("DELETE FROM flag_night WHERE run_date = :d"), {"d": run_date})
    bound = bound_params(run_date, bundle_day, params)
    counts = {}
    rows = []
    for rule in rules:
        computed_with = rule.parameter_values(params)
        (sql,) = statements(read_sql(rule.sql))
        found = conn.execute(text(sql), used_params(sql, {**bound, **rule.bind})).mappings().all()
        counts[rule.code] = len(found)
        for hit in found:
            detail = {k: _jsonable(v) for k, v in hit.items()
                      if k not in ("project_id", "base_severity")}
            detail["params"] = computed_with
            rows.append({
                "d": run_date,
                "p": hit["project_id"],
                "r": rule.code,
                "s": hit["base_severity"],
                "raised": raised_before.get((hit["project_id"], rule.code), run_date),
                "v": rule.version,
                "x": json.dumps(detail, ensure_ascii=False, sort_keys=True),
            })
        log.info("%s (%s): %d flags", rule.code, rule.title, len(found))
    insert = text(
        "INSERT INTO flag_night (run_date, project_id, rule, base_severity, raised_on, "
        "rule_version, detail) VALUES (:d, :p, :r, :s, :raised, :v, :x)"
    )
    execute_many(conn, insert, rows)
    conn.execute(text(
        "UPDATE flag_night SET "
        "district_code = (SELECT p.district_code FROM night_project p WHERE p.run_date = "
        "flag_night.run_date AND p.project_id = flag_night.project_id), "
        "project_name = (SELECT p.name FROM night_project p WHERE p.run_date = "
        "flag_night.run_date AND p.project_id = flag_night.project_id) "
        "WHERE run_date = :d"), {"d": run_date})
    # The export joins tonight's flags with the night's tables: on a first night
    # with no statistics for them, PostgreSQL chose a plan that took 86 s, not 0.1 s.
    refresh_statistics(conn, ["flag_night"])
    return counts
