"""The shape of the nightly run, importable at DAG parse time (no heavy imports)."""

DAG_ID = "wageguard_nightly"
TIMEZONE = "Asia/Shanghai"
SCHEDULE_CRON = "0 1 * * *"  # 01:00: the lists are ready long before inspectors start

# One extract per feed; "devreform" brings both CSVs of one bundle, so a bundle
# is never split across tasks.
FEEDS = (
    "projects", "wage_accounts", "wage_deposits", "realname_monthly",
    "enterprises", "list_entries", "devreform",
)
CONNECTION_OF_SYSTEM = {
    "housing": "housing_api",
    "credit": "credit_api",
    "devreform": "devreform_exchange",
}
SIGNING_CONNECTION = "wageguard_signing"  # password: the Ed25519 private key (PEM)
# Optional: the warehouse as an Airflow connection (a postgres URI); without it,
# WAGEGUARD_WAREHOUSE_URL or the embedded SQLite file.
WAREHOUSE_CONNECTION = "wageguard_warehouse"

# The nightly run starts at 01:00 and must be done when inspectors start at 07:00.
DEADLINE_HOURS_AFTER_START = 6
# Every pull from the source systems takes a slot of this pool, so backfills and
# retries together never send more parallel requests than the contracts allow.
SOURCE_POOL = "wageguard_sources"
SOURCE_POOL_SLOTS = 3
SYSTEM_OF_FEED = {
    "projects": "housing", "wage_accounts": "housing", "wage_deposits": "housing",
    "realname_monthly": "housing", "enterprises": "credit", "list_entries": "credit",
    "devreform": "devreform",
}
