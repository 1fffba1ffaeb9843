"""The roster's districts, their cities and names, for the night's summaries."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0016", "0015"
upgrade = sql_step("0016_roster_district.sql")
