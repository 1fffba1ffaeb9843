"""Inspectors' dispositions on flags."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0002", "0001"
upgrade = sql_step("0002_dispositions.sql")
