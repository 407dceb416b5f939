"""Sightline tables, the engine and session factory, and Alembic migrations. A leaf: imports nothing of ours."""
