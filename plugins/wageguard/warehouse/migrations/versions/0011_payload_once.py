"""Each distinct payload kept once; a pull's landing rows only until it is loaded."""

from wageguard.warehouse.migrations.steps import sql_step

revision, down_revision = "0011", "0010"
upgrade = sql_step("0011_payload_once.sql")
