"""Context questions: "what's related to the deploy?", "what did we decide about pricing?".

Kairos searches what it has — tasks (titles, descriptions, comments) and run
output — for the topic, keeps what the speaker may see, and answers with task
and run references. With Claude configured the findings are re-ranked and
answered in one sentence that cites them (a ``Reranker``); without it, or when
Claude is unavailable, the findings are listed as found, newest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.conversation import replies
from bot.conversation.speaker import Speaker
from core.errors import KairosError
from core.messages import Reply
from core.models import Member, TaskPublic
from core.ports import Finding, Reranker
from core.services.tasks import TaskService
from core.store.history import RunHistory
from core.store.search import query_words

_ASK = re.compile(
    r"^\s*(?:what(?:'s| is| else is)? related to|what did we (?:decide|say|agree) (?:about|on)|"
    r"anything (?:about|on))\s+(?P<topic>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_FILLER = frozenset({"the", "a", "an", "our", "my", "this", "that", "of", "to", "for", "and"})
SHOWN = 6


def topic_of(text: str) -> str | None:
    """The topic of a context question, or ``None`` if ``text`` is not one."""
    asked = _ASK.match(text)
    return asked.group("topic") if asked else None


def _queries(topic: str) -> list[str]:
    """Full-text queries for ``topic``: all its words together, then each word alone.

    The store's search (``TaskService.search``) matches stems and prefixes and
    ranks title hits first; a topic none of whose tasks holds every word still
    finds the tasks that hold one of them.
    """
    words = [w for w in query_words(topic) if w not in _FILLER]
    if not words:
        return []
    return list(dict.fromkeys([" ".join(words), *words]))


class RelatedTalk:
    """Answers context questions from tasks, comments and run logs."""

    def __init__(
        self, *, tasks: TaskService, history: RunHistory, reranker: Reranker | None = None
    ) -> None:
        self._tasks = tasks
        self._history = history
        self._reranker = reranker

    async def answer(
        self, text: str, speaker: Speaker, *, may_see: Callable[[TaskPublic, Member], bool]
    ) -> list[Reply] | None:
        topic = topic_of(text)
        if topic is None:
            return None
        findings = await self.find(topic, speaker, may_see=may_see)
        if not findings:
            return [replies.text(f"I found nothing about '{topic}' in tasks, comments or runs.")]
        lead = f"About '{topic}':"
        if self._reranker is not None:
            try:
                order, said = await self._reranker.rerank(
                    text, findings, workspace_id=speaker.workspace_id
                )
                kept = [findings[i] for i in order if 0 <= i < len(findings)]
                findings = kept + [f for f in findings if f not in kept]
                lead = said or lead
            except KairosError:
                pass  # the plain list is still an answer
        lines = [lead] + [f"  • {f.ref} {f.title}" for f in findings[:SHOWN]]
        return [replies.text("\n".join(lines))]

    async def find(
        self, topic: str, speaker: Speaker, *, may_see: Callable[[TaskPublic, Member], bool]
    ) -> list[Finding]:
        """Tasks (full-text, best first) then runs mentioning the topic."""
        ws = speaker.workspace_id
        found: dict[str, Finding] = {}
        for query in _queries(topic):
            for task in await self._tasks.search(query, workspace_id=ws, limit=SHOWN * 2):
                if may_see(task, speaker.member) and f"#{task.id}" not in found:
                    notes = " / ".join(await self._tasks.comments(task.id, workspace_id=ws))
                    text = f"{task.title}. {task.description} {notes}".strip()
                    found[f"#{task.id}"] = Finding(f"#{task.id}", task.title, text[:500])
            for row in await self._history.runs(ws, text=query, limit=20):
                ref = f"run {row.run.id} of #{row.run.task_id}"
                if ref not in found:
                    text = (row.run.output or row.run.error or "")[:500]
                    found[ref] = Finding(ref, f"{row.task_title} ({row.run.status})", text)
            if found:
                break  # every word (or, failing that, one word) found something
        return list(found.values())
