"""Keep each pull's GX Data Docs page and normalisation notes with its batch."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0004", "0003"
upgrade = sql_step("0004_validation_docs.sql")
