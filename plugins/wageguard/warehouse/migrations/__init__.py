"""Alembic's script directory for the warehouse. Every revision applies one
file of sql/schema, so the schema stays in SQL that runs on both backends and
Alembic keeps the version, the order and the upgrade path."""
