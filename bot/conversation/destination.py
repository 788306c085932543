"""Where an outgoing reply goes: the same rule on every chat surface.

A reply names a channel (and maybe a thread), or a person (their DM), or
neither — then it goes where its task's card lives. ``open_dm`` is the
surface's way to get a person's DM channel.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from core.messages import Reply
from core.models import TaskPublic

log = logging.getLogger(__name__)


class _Tasks(Protocol):
    async def find_task(self, task_id: int) -> TaskPublic | None: ...


async def task_of(reply: Reply, store: _Tasks) -> TaskPublic | None:
    """The task ``reply`` is about: as its sender read it, else read now (or ``None``)."""
    if reply.task is not None:
        return reply.task
    return await store.find_task(reply.task_id) if reply.task_id is not None else None


async def destination(
    reply: Reply, task: TaskPublic | None, open_dm: Callable[[str], Awaitable[str]]
) -> tuple[str | None, str | None]:
    """``(channel, thread)`` for ``reply``; ``(None, None)`` (logged) when it names no place."""
    channel, thread = reply.channel_ref, reply.thread_ref
    if channel is None and reply.user_ref:
        channel, thread = await open_dm(reply.user_ref), None
    if channel is None and task is not None and task.channel_ref:
        channel, thread = task.channel_ref, task.thread_ref
    if channel is None:
        log.warning("reply for task %s names no place to go", reply.task_id)
    return channel, thread
