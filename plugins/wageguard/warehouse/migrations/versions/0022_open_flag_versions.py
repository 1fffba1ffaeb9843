"""Flag versions holding through the latest night are open: the next night leaves them be."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0022", "0021"
upgrade = sql_step("0022_open_flag_versions.sql")
