"""The warehouse's first schema: landing, core versions, night tables, flags."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0001", None
upgrade = sql_step("0001_init.sql")
