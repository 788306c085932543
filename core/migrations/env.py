"""Alembic environment for Kairos: async engines on SQLite and PostgreSQL.

Normally run through ``core.migrate.upgrade``/``downgrade``, which open the
connection themselves and hand it over in ``config.attributes["connection"]``
(alembic's "programmatic API use with asyncio" recipe). The ``alembic`` command
line also works: it takes the URL from ``sqlalchemy.url`` or ``KAIROS_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from core.db import async_url, create_engine
from core.migrate import load_models
from core.models import RunStatusString, UtcDateTime
from core.models_search import include_object

load_models()  # registers every table on SQLModel.metadata
config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render Kairos's custom column types as plain SQLAlchemy types.

    Migration scripts must not import application code that may change later;
    ``UtcDateTime`` is a ``timestamptz``/``DATETIME``, ``RunStatusString`` and
    SQLModel's ``AutoString`` are ``VARCHAR``s as far as the database is concerned.
    """
    if type_ == "type":
        if isinstance(obj, UtcDateTime):
            return "sa.DateTime(timezone=True)"
        if isinstance(obj, RunStatusString):
            return "sa.String(length=16)"
        if type(obj).__name__ == "AutoString":
            length = getattr(obj, "length", None)
            return f"sa.String(length={length})" if length else "sa.String()"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=True,
        render_item=render_item,
        compare_type=True,
        include_object=include_object,
        **kwargs,
    )


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("KAIROS_DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: set sqlalchemy.url or KAIROS_DATABASE_URL")
    return url


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    _configure(url=async_url(_url()), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
