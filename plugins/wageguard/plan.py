"""The shape of the nightly run, importable at DAG parse time (no heavy imports)."""

import datetime as dt
from zoneinfo import ZoneInfo

from wageguard.tables import REST_TABLES

DAG_ID = "wageguard_nightly"
TIMEZONE = "Asia/Shanghai"
SCHEDULE_CRON = "0 1 * * *"  # 01:00: the lists are ready long before inspectors start

# One ingest_feed per REST table, and "devreform", which brings both CSVs of one
# bundle, so a bundle is never split across tasks.
FEEDS = (*(t.name for t in REST_TABLES), "devreform")
CONNECTION_OF_SYSTEM = {
    "housing": "housing_api",
    "credit": "credit_api",
    "devreform": "devreform_exchange",
}
SIGNING_CONNECTION = "wageguard_signing"  # password: the Ed25519 private key (PEM)
# The warehouse, a postgres connection read through Airflow's secrets backends;
# its extras (sslmode, ...) reach libpq. Without it, WAGEGUARD_WAREHOUSE_URL or
# the embedded SQLite file (warehouse/engine.py).
WAREHOUSE_CONNECTION = "wageguard_warehouse"

# The nightly run starts at 01:00; inspectors start at 07:00, when a watchdog
# DAG checks that night D was published.
DEADLINE_DAG_ID = "wageguard_deadline"
DEADLINE = dt.time(7, 0)
DEADLINE_CRON = f"{DEADLINE.minute} {DEADLINE.hour} * * *"
# Every pull from the source systems takes a slot of this pool, so backfills and
# retries together never send more parallel requests than the contracts allow.
# The slot is held while the pull is validated and loaded too (ingest_feed):
# that keeps the pull's records, decoded once, in the process that landed them.
SOURCE_POOL = "wageguard_sources"
SOURCE_POOL_SLOTS = 3
SYSTEM_OF_FEED = {t.name: t.system for t in REST_TABLES} | {"devreform": "devreform"}

# The night's stages, each with the stages it waits for, listed in an order
# that runs them: the DAG wires its tasks from this and pipeline.run_night
# walks it, so the order is written here alone. ingest_feed (pull, land, validate
# and load) runs once per feed.
STAGES: dict[str, tuple[str, ...]] = {
    "prepare_warehouse": (),
    "ingest_feed": ("prepare_warehouse",),
    "build_night": ("ingest_feed",),
    "evaluate_rules": ("build_night",),
    "ingest_dispositions": ("prepare_warehouse",),
    "export": ("evaluate_rules", "ingest_dispositions"),
    "deliver": ("export",),
}

# The first night the schedules know of; catch-up is off, so it only bounds backfills.
START_DATE = dt.datetime(2026, 1, 1, tzinfo=ZoneInfo(TIMEZONE))


def run_date_of(context) -> dt.date:
    """Night D of a DAG run: the Shanghai date of its logical date (of when it
    was run, for a run triggered without one)."""
    moment = context.get("logical_date") or context["dag_run"].run_after
    local = moment.astimezone(ZoneInfo(TIMEZONE))
    return dt.date(local.year, local.month, local.day)  # a plain date, not pendulum's
