"""A received command is marked done in the same transaction as its effect.

A chat edge that stores a command in the inbox (``chat_inbox``, see
``core.store.inbox``) before doing its work wraps that work in ``doing(...)``.
The first transaction of the work that records an audit event — every change
a command makes to tasks, workflows or settings writes one, in the change's own
transaction — also marks the command's entry ``done``, just before it commits:

* the entry is upserted: inserted already ``done`` if the edge has not written
  it yet (the work may commit before the edge decides to store it), else moved
  from ``pending`` to ``done`` — but only while this process still holds it
  (``claimed_by``);
* when it no longer holds it (another process took it over, or finished it),
  the change is rolled back with ``CommandTakenOver``: its work is the other
  process's to do.

So the effect commits if and only if the mark does, and only by the holder: a
process killed after its work committed leaves nothing to take over, and a
takeover never repeats a committed effect. A command whose work changes
nothing is marked by its edge afterwards; doing it twice changes nothing.
Effects after the first audited transaction of the same command are not
covered (no command does several today).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.errors import KairosError
from core.models_inbox import InboxCommand

INBOX: sa.Table = InboxCommand.__table__  # type: ignore[attr-defined]
PENDING = "pending"
DONE = "done"
#: Set in ``AsyncSession.info`` by a transaction that records an audit event (an effect).
EFFECT_KEY = "kairos.effect"


class CommandTakenOver(KairosError):
    """This process no longer holds the command: another one does (or did) its work."""

    def __init__(self, *, done: bool = False) -> None:
        #: Whether the command's work is already done (it arrived twice), not in hand.
        self.done = done
        super().__init__(
            "This command arrived twice and was already done; nothing was done again."
            if done
            else "Another Kairos process took this command over; its answer comes from there."
        )


@dataclass
class Completion:
    """The inbox entry of the command the current task is doing."""

    engine: AsyncEngine
    #: The entry as the edge writes it (``platform``, ``dedupe_key``, ``claimed_by``…).
    row: dict[str, Any]
    now: Callable[[], datetime]
    #: Whether a committed transaction already marked it.
    done: bool = field(default=False)


_DOING: ContextVar[Completion | None] = ContextVar("kairos_doing_command", default=None)


@contextmanager
def doing(completion: Completion | None) -> Iterator[None]:
    """Tasks created in this block (they copy the context) do ``completion``'s command."""
    token = _DOING.set(completion)
    try:
        yield
    finally:
        _DOING.reset(token)


async def mark_with_effect(session: AsyncSession, engine: AsyncEngine) -> Completion | None:
    """Called by ``StoreBase.transaction`` just before it commits: when this transaction
    has an effect and the current task does an unmarked command on this database, mark
    that command done here. Returns the completion to settle once the commit succeeded."""
    completion = _DOING.get()
    if (
        completion is None
        or completion.done
        or completion.engine is not engine
        or not session.info.get(EFFECT_KEY)
    ):
        return None
    now = completion.now()
    row = completion.row
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        insert(INBOX)
        .values({**row, "status": DONE, "done_at": now})
        .on_conflict_do_update(
            index_elements=["platform", "dedupe_key"],
            set_={"status": DONE, "done_at": now},
            where=sa.and_(INBOX.c.status == PENDING, INBOX.c.claimed_by == row["claimed_by"]),
        )
    )
    result = cast("CursorResult[Any]", await session.execute(stmt))
    if not result.rowcount:
        status = await session.scalar(
            sa.select(INBOX.c.status).where(
                INBOX.c.platform == row["platform"], INBOX.c.dedupe_key == row["dedupe_key"]
            )
        )
        raise CommandTakenOver(done=status == DONE)
    return completion
