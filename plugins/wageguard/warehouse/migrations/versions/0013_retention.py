"""The retention horizon: the oldest night that can still be re-run."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0013", "0012"
upgrade = sql_step("0013_retention.sql")
