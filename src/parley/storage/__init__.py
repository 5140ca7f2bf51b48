"""Persistence: SQLAlchemy 2 models, one `Database` for SQLite or PostgreSQL, and one
store module per domain under `stores/`. Handlers talk to stores, never to SQL directly."""
