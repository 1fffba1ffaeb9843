"""Evaluating every rule for night D and keeping what it found as the night's
flags.

A flag is (project_id, rule). It keeps the raised_on of the previous published
night while the condition holds; a night where it does not hold ends it, and a
later return is a new occurrence (rules.md, "Flag lifecycle"): that is
sql/flags/lifecycle.sql, run here between the rules and keeping the flags."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from decimal import Decimal

from sqlalchemy import Connection, RowMapping, text

from wageguard.db.sqlfiles import read_sql, run_file, statements, used_params
from wageguard.rules.catalogue import Rule
from wageguard.rules.flag_versions import keep_night_flags, stage_night_flags
from wageguard.sources.rest_feeds import closed_months
from wageguard.warehouse.night import previous_night

log = logging.getLogger(__name__)
# Flags found and staged at a time.
FLAG_BATCH = 10_000


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


def _jsonable(value):
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    return value


def evaluate_rules(
    conn: Connection, run_date: dt.date, bundle_day: dt.date | None, rules: list[Rule],
    params: dict,
) -> dict[str, int]:
    """Replaces night D's flags; returns the count per rule. The rules find
    them; their lifecycle (raised_on carried over, the project's place) is
    sql/flags/lifecycle.sql."""
    counts: dict[str, int] = {}
    stage_night_flags(conn, _flags_by_rule(conn, run_date, bundle_day, rules, params, counts))
    carry_lifecycle(conn, run_date)
    keep_night_flags(conn, run_date)
    return counts


def _flags_by_rule(conn: Connection, run_date: dt.date, bundle_day: dt.date | None,
                   rules: list[Rule], params: dict, counts: dict[str, int]
                   ) -> Iterator[list[tuple]]:
    """Each rule's flags as night_flag rows, FLAG_BATCH at a time, so a
    province's flags are never held together; counts them per rule. A rule's
    result is the driver's ordinary one, whole on the client before the first
    batch is written (PostgreSQL copies no rows while a query is being read)."""
    bound = bound_params(run_date, bundle_day, params)
    for rule in rules:
        computed_with = rule.parameter_values(params)
        (sql,) = statements(read_sql(rule.sql))
        found = conn.execute(text(sql), used_params(sql, {**bound, **rule.bind})).mappings()
        counts[rule.code] = 0
        while hits := found.fetchmany(FLAG_BATCH):
            counts[rule.code] += len(hits)
            yield [(hit["project_id"], rule.code, hit["base_severity"], run_date, rule.version,
                    _detail(hit, computed_with), None, None) for hit in hits]
        log.info("%s (%s): %d flags", rule.code, rule.title, counts[rule.code])


def _detail(hit: RowMapping, computed_with: dict) -> str:
    """What the rule found beside the flag, and the parameters it used."""
    detail = {k: _jsonable(v) for k, v in hit.items() if k not in ("project_id", "base_severity")}
    detail["params"] = computed_with
    return json.dumps(detail, ensure_ascii=False, sort_keys=True)


def carry_lifecycle(conn: Connection, run_date: dt.date) -> None:
    """The staged flags as the inspectors know them (sql/flags/lifecycle.sql)."""
    run_file(conn, "flags/lifecycle.sql",
             {"run_date": run_date, "previous_night": previous_night(conn, run_date)})
