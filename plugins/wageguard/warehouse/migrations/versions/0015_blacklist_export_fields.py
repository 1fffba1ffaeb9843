"""Each exported blacklist row kept with its fields, not only its hash."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0015", "0014"
upgrade = sql_step("0015_blacklist_export_fields.sql")
