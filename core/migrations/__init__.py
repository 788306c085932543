"""Alembic migrations of the Kairos schema (run them with ``core.migrate``)."""
