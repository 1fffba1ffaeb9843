"""Payloads written once, as a pull lands; landing rows point at them."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0018", "0017"
upgrade = sql_step("0018_payload_on_landing.sql")
