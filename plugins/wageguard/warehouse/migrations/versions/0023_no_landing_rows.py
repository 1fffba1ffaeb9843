"""No landing rows kept: a bundle's landed rows are a temporary table of its load."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0023", "0022"
upgrade = sql_step("0023_no_landing_rows.sql")
