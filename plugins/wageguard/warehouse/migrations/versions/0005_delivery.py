"""The delivery ledger of the district lists e-mailed to inspectors."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0005", "0004"
upgrade = sql_step("0005_delivery.sql")
