"""Alembic environment: runs migrations through a blocking driver on the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool, text

from parley.storage.schema import Base

config = context.config
target_metadata = Base.metadata
# Web processes that start together each bring the schema up to date; on PostgreSQL they take
# turns under this advisory lock (held to the end of the migration's transaction), and each
# one after the first finds nothing left to do. SQLite's own write lock does the same there.
MIGRATION_LOCK = 0x7061726C6579  # "parley"


def run() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()
    connectable.dispose()


run()
