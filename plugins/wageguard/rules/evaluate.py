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

from wageguard.db.sqlfiles import read_sql, statements, used_params
from wageguard.db.values import as_date
from wageguard.rules.catalogue import Rule
from wageguard.rules.flag_versions import write_night_flags
from wageguard.sources.rest_feeds import closed_months

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
            (r.project_id, r.rule): as_date(r.raised_on)
            for r in conn.execute(
                text("SELECT project_id, rule, raised_on FROM flag_night WHERE run_date = :d"),
                {"d": previous},
            )
        }
    # A flag keeps where its project was and what it was called that night.
    place = {
        r.project_id: (r.district_code, r.name)
        for r in conn.execute(
            text("SELECT project_id, district_code, name FROM night_project WHERE run_date = :d"),
            {"d": run_date},
        )
    }
    bound = bound_params(run_date, bundle_day, params)
    counts = {}
    flags = []
    for rule in rules:
        computed_with = rule.parameter_values(params)
        (sql,) = statements(read_sql(rule.sql))
        found = conn.execute(text(sql), used_params(sql, {**bound, **rule.bind})).mappings().all()
        counts[rule.code] = len(found)
        for hit in found:
            detail = {k: _jsonable(v) for k, v in hit.items()
                      if k not in ("project_id", "base_severity")}
            detail["params"] = computed_with
            project_id = hit["project_id"]
            flags.append((
                project_id, rule.code, hit["base_severity"],
                raised_before.get((project_id, rule.code), run_date), rule.version,
                json.dumps(detail, ensure_ascii=False, sort_keys=True),
                *place.get(project_id, (None, None)),
            ))
        log.info("%s (%s): %d flags", rule.code, rule.title, len(found))
    write_night_flags(conn, run_date, flags)
    return counts
