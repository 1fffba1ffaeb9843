"""payload.source_table dropped: the pull it names says it."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0020", "0019"
upgrade = sql_step("0020_payload_without_its_table.sql")
