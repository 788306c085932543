"""Database engines: SQLite (embedded default, WAL) and PostgreSQL (production).

Only ``core.store`` and the migration runner use this module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.errors import InvalidInput

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str) -> str:
    """Normalise a user-given URL to its async driver (``sqlite:///x.db`` → aiosqlite).

    Supabase: use the direct or session-mode connection string (port 5432), never
    the transaction pooler on 6543, which breaks LISTEN/NOTIFY and advisory locks.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise InvalidInput(
            "The database URL is not valid.",
            hint="Use e.g. 'sqlite:///kairos.db' or 'postgresql://user@host:5432/kairos'.",
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise InvalidInput(
            f"Unsupported database {backend!r}.",
            hint="Kairos runs on SQLite ('sqlite:///…') or PostgreSQL ('postgresql://…').",
        )
    if parsed.port == 6543:
        raise InvalidInput(
            "Port 6543 is Supabase's transaction pooler, which breaks advisory locks and "
            "prepared statements.",
            hint="Use the direct or session-mode connection string on port 5432.",
        )
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def ensure_sqlite_directory(url: str) -> None:
    """Create the folder of a SQLite file (the default lives in a new data directory)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` with Kairos's connection settings applied."""
    ensure_sqlite_directory(url)
    # A server connection can go stale (restarts, idle timeouts) and is pinged on
    # checkout; a SQLite file cannot, and the ping costs ~0.3 ms per transaction.
    sqlite = make_url(url).get_backend_name() == "sqlite"
    engine = create_async_engine(async_url(url), echo=echo, pool_pre_ping=not sqlite)
    if sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """An engine and its session factory; sessions never outlive one unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session inside a transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
