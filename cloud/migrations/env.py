"""Alembic environment: the caller hands a live connection in `config.attributes["connection"]`."""
from alembic import context

from mt3620.cloud.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through a hand-written alembic.ini
    raise RuntimeError("run migrations through mt3620.cloud.migrate, which passes a connection")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
