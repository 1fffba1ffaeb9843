"""Who holds the warehouse: one night from merge to publish, one delivery a night."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0010", "0009"
upgrade = sql_step("0010_night_lock.sql")
