"""Reminders out: the chat side of ``core.ports.Notifier``.

A fired reminder becomes a neutral ``Reply`` routed to the task's thread, its
named channel, or its assignees' DMs, and is handed to the adapter of the
workspace's platform. The conversation remembers it, so "snooze" works.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot import formatting
from bot.conversation.context import place
from bot.conversation.replies import fired_buttons
from core.enums import Platform, RunTrigger, TaskKind
from core.errors import NotConfigured
from core.jobs import Job, TaskSnapshot
from core.messages import Reply, ReplyKind
from core.ports import ChatAdapter, Clock
from core.services.conversation import ConversationMemory
from core.services.tasks import TaskService
from core.store import SqlStore

#: A reminder delivered later than this after its time says so.
LATE_AFTER_SECONDS = 120

log = logging.getLogger(__name__)


class ChatNotifier:
    """Posts due reminders through the chat adapter of each workspace's platform."""

    def __init__(
        self,
        *,
        store: SqlStore,
        adapters: Mapping[Platform, ChatAdapter],
        context: ConversationMemory,
        clock: Clock | None = None,
        tasks: TaskService | None = None,
    ) -> None:
        self._store = store
        self._adapters = dict(adapters)
        self._context = context
        self._clock = clock
        self._tasks = tasks
        # Fires due before this process started were missed while Kairos was down.
        self._started = clock.now() if clock is not None else None

    def use_tasks(self, tasks: TaskService) -> None:
        """Let fired one-off reminders be marked done (wired after the scheduler exists)."""
        self._tasks = tasks

    def add_adapter(self, platform: Platform, adapter: ChatAdapter) -> None:
        self._adapters[platform] = adapter

    async def notify(self, job: Job) -> str | None:
        task = job.task
        workspace = await self._store.get_workspace(task.workspace_id)
        adapter = self._adapters.get(Platform(workspace.platform))
        if adapter is None:
            raise NotConfigured(
                f"No chat adapter for {workspace.platform}: reminder #{task.id} was not posted.",
                hint="Configure that platform's tokens, or run Kairos with its chat surface.",
            )
        public = await self._store.get_task(task.id)
        targets = await self._targets(task, public.assignees)
        creator_ref = (
            (await self._store.get_member(task.created_by)).platform_user_id
            if task.created_by is not None
            else None
        )
        # A one-off reminder is done once it has fired (Reopen brings it back);
        # a snooze or manual run of it changes nothing.
        one_off = (
            task.kind == TaskKind.REMINDER
            and (public.schedule or {}).get("kind") == "once"
            and job.trigger in (RunTrigger.SCHEDULE, RunTrigger.MISFIRE)
        )
        text = f"Reminder: {task.title}{self._lateness(job)}"
        refs: list[str] = []
        for channel_ref, thread_ref, user_ref in targets:
            sender = creator_ref if user_ref is not None and user_ref != creator_ref else None
            reply = Reply(
                text=text.replace("Reminder:", f"Reminder from @{sender}:", 1) if sender else text,
                kind=ReplyKind.REMINDER,
                task_id=task.id,
                buttons=fired_buttons(task.id, done=one_off or public.status == "done"),
                channel_ref=channel_ref,
                thread_ref=thread_ref,
                user_ref=user_ref,
            )
            ref = await adapter.send(reply)
            await self._context.reminder_fired(
                workspace_id=task.workspace_id,
                person=user_ref if channel_ref is None or thread_ref else None,
                place=place(
                    user_ref=user_ref,
                    channel_ref=channel_ref,
                    thread_ref=thread_ref,
                    direct=channel_ref is None,
                ),
                task_id=task.id,
            )
            if ref:
                refs.append(ref)
        if one_off and self._tasks is not None:
            await self._tasks.finish_fired(task.id)
        return ",".join(refs) or None

    def _lateness(self, job: Job) -> str:
        """Say how late a delivery is, and why (Kairos was not running)."""
        if self._clock is None:
            return ""
        late = (self._clock.now() - job.scheduled_for).total_seconds()
        if late < LATE_AFTER_SECONDS:
            return ""
        minutes = int(late // 60)
        hours, rest = divmod(minutes, 60)
        span = (
            f"{minutes} min" if minutes < 120 else f"{hours} h" + (f" {rest} min" if rest else "")
        )
        due = formatting.when(job.scheduled_for, job.task.timezone)
        down = self._started is not None and job.scheduled_for < self._started
        why = "Kairos was not running then" if down else "Kairos could not deliver it on time"
        return f" (late by {span}: it was due {due}; {why})"

    async def _targets(
        self, task: TaskSnapshot, assignees: list[str]
    ) -> list[tuple[str | None, str | None, str | None]]:
        """Where a reminder goes, as (channel, thread, person) triples.

        People other than its creator → each one's DM ("remind @bob …"); nobody
        named but a channel → that channel ("remind #eng …"); the creator alone →
        the task's thread when it has a card, else the creator's DM.
        """
        creator = (
            (await self._store.get_member(task.created_by)).platform_user_id
            if task.created_by is not None
            else None
        )
        others = [person for person in assignees if person != creator]
        if others:
            return [(None, None, person) for person in others]
        if task.channel_ref and not assignees:
            return [(task.channel_ref, task.thread_ref, None)]
        if task.channel_ref and task.thread_ref:
            return [(task.channel_ref, task.thread_ref, creator)]
        return [(None, None, creator)]
