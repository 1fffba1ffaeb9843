"""Dev-reform rows looked up by bundle day and normalised investment code."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0006", "0005"
upgrade = sql_step("0006_devreform_code_index.sql")
