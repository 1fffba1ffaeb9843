"""Each flag keeps its project's district and name of the night."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0012", "0011"
upgrade = sql_step("0012_flag_night_place.sql")
