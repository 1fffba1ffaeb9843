"""Alembic's environment: migrations always run online, on the connection (and
in the transaction) that wageguard.warehouse.migrate hands over."""

from alembic import context

context.configure(connection=context.config.attributes["connection"])
context.run_migrations()
