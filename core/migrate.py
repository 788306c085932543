"""Run the schema migrations from code: ``await upgrade(url)``.

No ``alembic.ini`` is needed: the ``Config`` is built here and points at the
``core/migrations`` directory shipped inside the package. The same scripts run
on SQLite and PostgreSQL. Each call opens its own engine and disposes of it.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from core.db import async_url, create_engine

HEAD = "head"


def load_models() -> list[str]:
    """Import every table module (``core/models.py`` and ``core/models_*.py``).

    Tables register themselves on ``SQLModel.metadata`` when imported, and the
    migrations (and the drift check in the tests) must see all of them. Put new
    tables in a module following that naming and they are picked up here.
    """
    import core

    names = [
        f"core.{info.name}"
        for info in pkgutil.iter_modules(core.__path__)
        if info.name == "models" or info.name.startswith("models_")
    ]
    for name in sorted(names):
        importlib.import_module(name)
    return sorted(names)


def alembic_config(url: str | None = None) -> Config:
    """An alembic ``Config`` for Kairos's migrations (``url`` for the CLI/offline mode)."""
    config = Config()
    config.set_main_option("script_location", str(files("core") / "migrations"))
    if url is not None:
        # ConfigParser interpolation treats '%' specially (URL-encoded passwords).
        config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    return config


#: The advisory lock that serializes migrations on PostgreSQL (any constant bigint).
_MIGRATION_LOCK = 0x4B41_4952_4F53_0001


async def _run(url: str, fn: Any, *args: Any) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite alters a table by copying it: with foreign keys enforced, the
                # copy of a referenced table fails on a database that holds rows. The
                # pragma must be set before the transaction writes; the check after
                # proves the migration left every reference whole.
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            else:
                # Replicas started together all migrate at start: one at a time, each
                # after the last committed (the later ones then find nothing to do),
                # instead of racing to create the same tables.
                await connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            await connection.run_sync(fn, *args)
            if sqlite:
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
    finally:
        await engine.dispose()


def _with_connection(connection: Connection, step: Any, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    step(config, revision)


async def upgrade(url: str, revision: str = HEAD) -> None:
    """Migrate the database at ``url`` up to ``revision`` (default: the latest)."""
    await _run(url, _with_connection, command.upgrade, revision)


async def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``"base"`` empties it)."""
    await _run(url, _with_connection, command.downgrade, revision)


async def autogenerate(url: str, message: str, *, rev_id: str) -> None:
    """Write ``versions/<rev_id>_<message>.py`` from the models' changes (a developer tool).

    ``url`` must be a database at the current head; review the generated script
    (SQLite batch mode, server defaults, data moves) before committing it.
    """

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id)

    await _run(url, run)


def head_revision() -> str | None:
    """The newest revision shipped with this version of Kairos."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (``None`` when never migrated)."""
    found: list[str | None] = []

    def read(connection: Connection) -> None:
        found.append(MigrationContext.configure(connection).get_current_revision())

    await _run(url, read)
    return found[0]
