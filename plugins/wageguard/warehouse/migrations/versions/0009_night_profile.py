"""Each night's profile, and the drift an engineer accepted."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0009", "0008"
upgrade = sql_step("0009_night_profile.sql")
