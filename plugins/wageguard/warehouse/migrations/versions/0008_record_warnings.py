"""Warnings kept per record: rows loaded although they break a descriptive check."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0008", "0007"
upgrade = sql_step("0008_record_warnings.sql")
