"""Index landing records by payload hash for `wageguard why`."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0003", "0002"
upgrade = sql_step("0003_evidence_index.sql")
