"""Each pull's expectation results kept for its Data Docs page."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0007", "0006"
upgrade = sql_step("0007_validation_results.sql")
