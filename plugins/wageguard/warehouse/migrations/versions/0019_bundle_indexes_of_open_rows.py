"""Bundle rows: only the open ones indexed by payload; the by-day code indexes dropped."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0019", "0018"
upgrade = sql_step("0019_bundle_indexes_of_open_rows.sql")
