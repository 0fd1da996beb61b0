"""Persistence: ORM models, engine/session factories and Alembic migrations."""
