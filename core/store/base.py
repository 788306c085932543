"""The store's foundation: one ``Database``, sessions, and ambient transactions.

Every store method runs in a session obtained from ``_session()``. Outside a
``transaction()`` block each call is its own transaction; inside one, all calls
made by the same asyncio task share a single session and commit (or roll back)
together. That is how the task service writes a change and its audit event
atomically without ever seeing a session.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.db import Database
from core.errors import Conflict, StoreError
from core.store.changes import announce_collected
from core.store.completion import mark_with_effect

log = logging.getLogger(__name__)

#: Where ``AsyncSession.info`` keeps what to do once the transaction has committed.
_AFTER_COMMIT = "kairos.after_commit"


class StoreBase:
    """Holds the ``Database`` and hands out sessions; the sub-stores build on it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # One variable per store instance: two stores on two databases in the same
        # task must never pick up each other's session.
        self._ambient: ContextVar[AsyncSession | None] = ContextVar(
            f"kairos_store_session_{id(self)}", default=None
        )

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.db.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Run every store call in this block in one transaction.

        Nested blocks join the outer one. Do not spawn asyncio tasks that use the
        store inside the block: they would share a session, which is not safe.
        Database errors leave as ``Conflict`` (constraint violations) or
        ``StoreError``; nothing of the block is committed then.
        """
        if self._ambient.get() is not None:
            yield
            return
        committed: list[Callable[[], Awaitable[None]]] = []
        try:
            async with self.db.session() as session:
                token = self._ambient.set(session)
                try:
                    yield
                    # A received command whose effect this is: marked done with it.
                    completion = await mark_with_effect(session, self.db.engine)
                    # The one NOTIFY of this transaction, sent just before it commits.
                    await announce_collected(session, self.dialect)
                    committed = session.info.pop(_AFTER_COMMIT, [])
                finally:
                    self._ambient.reset(token)
            if completion is not None:
                completion.done = True
        except IntegrityError as exc:
            raise Conflict(
                "That change conflicts with data already stored.",
                hint="Reload the task and try again.",
            ) from exc
        except Exception as exc:
            # SQLAlchemy wraps the driver's errors, except some raised while a pooled
            # connection is being opened (asyncpg's "database is not accepting
            # connections", a refused socket): those would leave untranslated.
            if not isinstance(exc, SQLAlchemyError | ConnectionError) and not _from_driver(exc):
                raise
            raise StoreError(
                "The database could not complete the operation.",
                hint="Try again in a moment; if it keeps failing, check the database server.",
            ) from exc
        for then in committed:
            await _quietly(then)

    async def after_commit(self, then: Callable[[], Awaitable[None]]) -> None:
        """Run ``then`` once the current ``transaction()`` has committed (at once outside one).

        For what must not happen to rows that may yet be rolled back: telling the
        engine of a new task, handing runs to the local workers. Never run when the
        transaction fails; a failure of ``then`` is logged, not raised (the change
        is committed whatever it does).
        """
        session = self._ambient.get()
        if session is None:
            await _quietly(then)
            return
        session.info.setdefault(_AFTER_COMMIT, []).append(then)

    async def ambient_connection(self) -> AsyncConnection | None:
        """The connection of the current ``transaction()``, for code that writes on a
        connection (workflow passes); ``None`` outside one."""
        session = self._ambient.get()
        return None if session is None else await session.connection()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """The ambient session, or a fresh one-call transaction."""
        current = self._ambient.get()
        if current is not None:
            yield current
            return
        async with self.transaction():
            session = self._ambient.get()
            assert session is not None
            yield session

    def _insert(self, table: Any) -> Any:
        """A dialect ``INSERT`` that supports ``on_conflict_do_nothing`` on both backends."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


#: Database drivers whose own exceptions can escape SQLAlchemy's translation.
_DRIVERS = frozenset({"asyncpg", "aiosqlite", "sqlite3", "psycopg", "psycopg2"})


def _from_driver(exc: BaseException) -> bool:
    return type(exc).__module__.partition(".")[0] in _DRIVERS


def new_id(result: CursorResult[Any]) -> int:
    """The id an ``INSERT`` of one row got (SQLite lastrowid, PostgreSQL implicit RETURNING)."""
    key = result.inserted_primary_key
    assert key is not None and key[0] is not None
    return int(key[0])


async def _quietly(then: Callable[[], Awaitable[None]]) -> None:
    try:
        await then()
    except Exception:
        log.exception("an after-commit step failed")
