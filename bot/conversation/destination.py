"""Where an outgoing reply goes: the same rule on every chat surface.

A reply names a channel (and maybe a thread), or a person (their DM), or
neither — then it goes where its task's card lives. ``open_dm`` is the
surface's way to get a person's DM channel. When that channel refuses a
message about a task (Kairos was removed from it, it was archived or deleted),
the message goes to the task's creator instead, saying why (``for_creator``):
never lost in a log, and the task stays where it belongs, so its messages go
there again once the channel is fixed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

from bot.conversation.labels import LabelSource, in_task_language
from core.messages import Reply
from core.models import Member, TaskPublic

log = logging.getLogger(__name__)


class _Tasks(Protocol):
    async def find_task(self, task_id: int) -> TaskPublic | None: ...


class _Members(Protocol):
    async def get_member(self, member_id: int) -> Member: ...


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


async def for_creator(
    reply: Reply,
    task: TaskPublic | None,
    *,
    channel: str,
    why: str,
    store: _Members,
    labels: LabelSource | None,
) -> tuple[str, Reply] | None:
    """``(creator's platform id, reply)`` for a ``reply`` about ``task`` that ``channel``
    refused, the reply carrying ``why`` (in the task's language); ``None`` when there is
    no creator to tell."""
    if task is None or task.created_by is None:
        return None
    creator = await store.get_member(task.created_by)
    aside = await in_task_language(labels, task, f"(Not posted in #{channel}: {why})")
    return str(creator.platform_user_id), replace(reply, text=f"{reply.text}\n{aside}")
