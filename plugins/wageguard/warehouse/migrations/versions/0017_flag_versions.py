"""Flags kept as versions over runs of nights; flag_night becomes a view of them."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0017", "0016"
upgrade = sql_step("0017_flag_versions.sql")
