"""The chat command inbox: accept, lease, renew, take over, finish.

Every write is one short statement guarded by the entry's status (and, to take
an entry over, by its current owner), so two replicas never both take one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlmodel import col

from core.models_inbox import InboxCommand
from core.store.base import StoreBase
from core.store.completion import DONE, INBOX, PENDING

EXPIRED = "expired"


class InboxStore(StoreBase):
    """Reads and writes ``chat_inbox`` entries, keyed by ``(platform, dedupe_key)``."""

    async def accept(self, row: dict[str, Any]) -> bool:
        """Store a received command; ``False`` when the same command is already there."""
        stmt = self._insert(INBOX).on_conflict_do_nothing(index_elements=["platform", "dedupe_key"])
        async with self._session() as session:
            result = cast("CursorResult[Any]", await session.execute(stmt, row))
            return bool(result.rowcount)

    async def finish(
        self, *, platform: str, dedupe_key: str, owner: str, now: datetime, status: str = DONE
    ) -> bool:
        """Mark a pending entry ``owner`` holds done (or expired); ``False`` when it no
        longer was pending, or another process took it over (its work is theirs)."""
        stmt = (
            sa.update(INBOX)
            .where(
                INBOX.c.platform == platform,
                INBOX.c.dedupe_key == dedupe_key,
                INBOX.c.status == PENDING,
                INBOX.c.claimed_by == owner,
            )
            .values(status=status, done_at=now)
        )
        return await self._changed(stmt)

    async def renew(self, owner: str, *, until: datetime) -> None:
        """Extend the leases of every pending entry ``owner`` holds."""
        stmt = (
            sa.update(INBOX)
            .where(INBOX.c.claimed_by == owner, INBOX.c.status == PENDING)
            .values(lease_until=until)
        )
        await self._changed(stmt)

    async def others_pending(
        self, owner: str, *, now: datetime, host_prefix: str, limit: int = 50
    ) -> list[InboxCommand]:
        """Pending entries of other owners that may be dead, oldest first: those whose lease
        expired, and those of owners on this host (``host_prefix``; the caller checks the pid)."""
        stmt = (
            sa.select(InboxCommand)
            .where(
                col(InboxCommand.status) == PENDING,
                col(InboxCommand.claimed_by) != owner,
                sa.or_(
                    col(InboxCommand.lease_until) < now,
                    col(InboxCommand.claimed_by).startswith(host_prefix, autoescape=True),
                ),
            )
            .order_by(col(InboxCommand.received_at), col(InboxCommand.id))
            .limit(limit)
        )
        async with self._session() as session:
            return list((await session.scalars(stmt)).all())

    async def take(self, entry_id: int, *, previous: str, owner: str, until: datetime) -> bool:
        """Take over a pending entry still held by ``previous``; ``False`` if someone did first."""
        stmt = (
            sa.update(INBOX)
            .where(
                INBOX.c.id == entry_id,
                INBOX.c.status == PENDING,
                INBOX.c.claimed_by == previous,
            )
            .values(claimed_by=owner, lease_until=until, attempts=INBOX.c.attempts + 1)
        )
        return await self._changed(stmt)

    async def entry(self, *, platform: str, dedupe_key: str) -> InboxCommand | None:
        async with self._session() as session:
            found: InboxCommand | None = await session.scalar(
                sa.select(InboxCommand).where(
                    col(InboxCommand.platform) == platform,
                    col(InboxCommand.dedupe_key) == dedupe_key,
                )
            )
            return found

    async def _changed(self, stmt: Any) -> bool:
        async with self._session() as session:
            result = cast("CursorResult[Any]", await session.execute(stmt))
            return bool(result.rowcount)
