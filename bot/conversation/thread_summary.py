""" "summarize this thread" in a task's thread: its messages and comments, summarized by Claude.

The thread's messages come from the platform (Slack ``conversations.replies``,
a Discord thread's history) through ``ThreadHistory``; the task's comments from
Kairos. Both are cut to the token limit (newest end kept) before Claude sees
them. Without Claude Kairos says the feature needs ``KAIROS_ANTHROPIC_API_KEY``
rather than pretending; when Claude is unavailable or the budget is spent, it
says that.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from bot.conversation import replies
from bot.conversation.speaker import Speaker
from core.errors import KairosError
from core.executors.ai import fit, transcript
from core.messages import Reply
from core.models import TaskPublic
from core.ports import ChannelMessage, LanguageModel, ThreadHistory
from core.services.tasks import TaskService
from prompts import load

_ASK = re.compile(
    r"^\s*(?:summari[sz]e|sum up|recap|tl;?dr(?: of)?)\s+(?:this|the)\s+"
    r"(?:thread|discussion|conversation)\s*[.!?]?\s*$",
    re.IGNORECASE,
)
NEEDS_KEY = (
    "Summarizing a thread needs Claude, which is not configured here: an admin can set "
    "KAIROS_ANTHROPIC_API_KEY to turn it on."
)

ThreadTask = Callable[[Speaker], Awaitable[TaskPublic | None]]


def asks_for_summary(text: str) -> bool:
    return _ASK.match(text) is not None


class ThreadSummaryTalk:
    """Answers "summarize this thread" in a task's thread."""

    def __init__(
        self,
        *,
        tasks: TaskService,
        thread_task: ThreadTask,
        threads: ThreadHistory | None,
        model: LanguageModel | None,
        max_context_tokens: int = 8000,
        history_limit: int = 200,
    ) -> None:
        self._tasks = tasks
        self._thread_task = thread_task
        self._threads = threads
        self._model = model
        self._max_context = max_context_tokens
        self._limit = history_limit

    async def answer(self, text: str, speaker: Speaker) -> list[Reply] | None:
        if not asks_for_summary(text):
            return None
        if self._model is None:
            return [replies.text(NEEDS_KEY)]
        task = await self._thread_task(speaker) if speaker.inbound.thread_ref else None
        if task is None:
            return [
                replies.error(
                    "Say that in a task's thread: I summarize the discussion of one task."
                )
            ]
        messages, unread = await self._messages(speaker)
        comments = await self._tasks.comments(task.id, workspace_id=speaker.workspace_id)
        if not messages and not comments:
            why = f" ({unread})" if unread else ""
            return [replies.text(f"There is nothing to summarize yet about #{task.id}{why}.")]
        # Comments first: they are short and deliberate; a long thread keeps its newest end.
        context = fit(
            [
                ("Comments on the task", "\n".join(f"- {c}" for c in comments)),
                ("Thread messages", transcript(messages)),
            ],
            max_tokens=self._max_context,
        )
        prompt = f"Task #{task.id}: {task.title}\n\n{context}"
        system = load("thread_summary")
        try:
            said = await self._model.complete(
                purpose="thread_summary",
                system=system.text,
                prompt=prompt,
                workspace_id=speaker.workspace_id,
                max_tokens=600,
            )
        except KairosError as exc:
            return [replies.error(f"I could not summarize the thread: {exc.user_message()}")]
        note = f"\n(From the comments only: {unread})" if unread else ""
        head = f"Summary of #{task.id} {task.title}:"
        return [replies.text(f"{head}\n{said.text.strip()}{note}")]

    async def _messages(self, speaker: Speaker) -> tuple[list[ChannelMessage], str]:
        """The thread's messages, or none and why they could not be read."""
        inbound = speaker.inbound
        if self._threads is None or not inbound.channel_ref or not inbound.thread_ref:
            return [], "Kairos reads no thread messages here."
        try:
            found = await self._threads.thread(
                workspace_id=speaker.workspace_id,
                channel=inbound.channel_ref,
                thread=inbound.thread_ref,
                limit=self._limit,
            )
        except KairosError as exc:  # the comments are still worth summarizing
            return [], exc.message
        return found, ""
