"""Dev-reform rows valid over a run of bundles instead of a copy per bundle."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0014", "0013"
upgrade = sql_step("0014_bundle_rows_valid_over_bundles.sql")
