"""Alembic environment: runs on the connection that rivya.store.migrate hands over."""

from __future__ import annotations

from alembic import context

from rivya.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `rivya db upgrade`, which supplies the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
