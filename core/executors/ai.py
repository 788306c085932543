"""AI jobs (``ai_prompt``): Claude answers a prompt over context Kairos gathers.

Context builders, each optional: the messages of the channels the prompt names
("summarize #general", from ``ChannelHistory``), the workspace's tasks and runs
(the deterministic digest of that channel or workspace), and the event that
triggered the run (``Job.event`` when the job has one). The context is cut to a
token limit, newest material kept. The prompt, the context's size and the answer
are stored with the run (``ExecutionResult.result``).

Guarantee: read-only towards the workspace; a repeat asks Claude again (and is
charged again). Without a model this executor is not registered, and the
``ActionChecker`` refuses ``ai_prompt`` jobs naming ``KAIROS_ANTHROPIC_API_KEY``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.actions import AiPromptAction, action_as
from core.errors import JobFailed, KairosError
from core.jobs import Job
from core.ports import ChannelHistory, ChannelMessage, ExecutionResult, LanguageModel

#: Characters per token, for cutting context (Claude averages about 3.5–4 for English).
CHARS_PER_TOKEN = 4
_CHANNEL = re.compile(r"(?<![\w/])#([A-Za-z0-9][\w.-]{0,79})")
#: How far back channel history is read ("last week's incidents": a week and a day).
_HISTORY_DAYS = 8


class Digests(Protocol):
    """Tasks and runs as text (``core.executors.digest.DigestExecutor``)."""

    async def text(self, job: Job, *, channel: str | None) -> str: ...


def channels_named(prompt: str) -> list[str]:
    """The ``#channels`` a prompt names, in order, without duplicates."""
    return list(dict.fromkeys(_CHANNEL.findall(prompt)))


def fit(sections: Sequence[tuple[str, str]], *, max_tokens: int) -> str:
    """Join titled sections within ``max_tokens``; a long section keeps its newest end."""
    budget = max_tokens * CHARS_PER_TOKEN
    out: list[str] = []
    for title, body in sections:
        if not body.strip() or budget <= len(title) + 20:
            continue
        room = budget - len(title) - 10
        if len(body) > room:
            body = "…" + body[len(body) - room + 1 :]
        block = f"## {title}\n{body.strip()}"
        out.append(block)
        budget -= len(block) + 2
    return "\n\n".join(out)


def transcript(messages: Sequence[ChannelMessage]) -> str:
    return "\n".join(
        f"[{m.at.isoformat(timespec='minutes')}] {m.author}: {m.text}" for m in messages
    )


class AiPromptExecutor:
    """Runs ``AiPromptAction`` jobs with a ``LanguageModel``."""

    action_model = AiPromptAction

    def __init__(
        self,
        *,
        model: LanguageModel,
        system: str,
        digests: Digests | None = None,
        channels: ChannelHistory | None = None,
        max_context_tokens: int = 8000,
        max_answer_tokens: int = 1024,
        history_limit: int = 200,
    ) -> None:
        self._model = model
        self._system = system
        self._digests = digests
        self._channels = channels
        self._max_context = max_context_tokens
        self._max_answer = max_answer_tokens
        self._history_limit = history_limit

    async def execute(self, job: Job) -> ExecutionResult:
        action = action_as(job.action, AiPromptAction)
        sections = await self.context(job, action.prompt)
        context = fit(sections, max_tokens=self._max_context)
        prompt = f"{action.prompt}\n\n# Context\n{context}" if context else action.prompt
        try:
            answer = await self._model.complete(
                purpose="ai_prompt",
                system=self._system,
                prompt=prompt,
                workspace_id=job.workspace_id,
                max_tokens=self._max_answer,
            )
        except KairosError as exc:
            raise JobFailed(exc.message, hint=exc.hint) from exc
        await job.log.write("stdout", answer.text + "\n")
        return ExecutionResult(
            output=answer.text,
            result={
                "prompt": action.prompt,
                "context_chars": len(context),
                "context": [title for title, body in sections if body.strip()],
                "response": answer.text,
                "model": answer.model,
                "input_tokens": answer.input_tokens,
                "output_tokens": answer.output_tokens,
            },
        )

    async def context(self, job: Job, prompt: str) -> list[tuple[str, str]]:
        """The titled context sections for ``prompt`` (event, channels, tasks and runs)."""
        sections: list[tuple[str, str]] = []
        event: Mapping[str, Any] | None = getattr(job, "event", None)
        if event:
            sections.append(("The event", json.dumps(dict(event), default=str, indent=1)))
        named = channels_named(prompt)
        since = job.scheduled_for - timedelta(days=_HISTORY_DAYS)
        for channel in named:
            sections.append((f"Messages in #{channel}", await self._history(job, channel, since)))
        if self._digests is not None:
            scopes: list[str | None] = list(named) or [None]
            for scope in scopes:
                title = f"Tasks and runs in #{scope}" if scope else "Tasks and runs"
                sections.append((title, await self._digests.text(job, channel=scope)))
        return sections

    async def _history(self, job: Job, channel: str, since: datetime) -> str:
        if self._channels is None:
            return "(not available: Kairos reads no channel history here)"
        try:
            messages = await self._channels.messages(
                workspace_id=job.workspace_id,
                channel=channel,
                since=since,
                limit=self._history_limit,
            )
        except KairosError as exc:  # the job still answers from what else it has
            return f"(not available: {exc.message})"
        return transcript(messages) or "(no messages in this period)"


class SummarizedDigestExecutor:
    """A digest with Claude's short summary on top (``KAIROS_LLM_DIGEST_SUMMARIES``).

    The deterministic digest is always there; when Claude is unavailable or the
    budget is used up, the digest goes out without the summary (and says so in
    the run's result, not in chat).
    """

    def __init__(self, *, digest: Any, model: LanguageModel, system: str) -> None:
        self.action_model = digest.action_model
        self._digest = digest
        self._model = model
        self._system = system

    async def execute(self, job: Job) -> ExecutionResult:
        plain = await self._digest.execute(job)
        try:
            summary = await self._model.complete(
                purpose="digest_summary",
                system=self._system,
                prompt="Summarize this digest for the team in two or three sentences: what "
                "needs attention first, and why.\n\n" + plain.output,
                workspace_id=job.workspace_id,
                max_tokens=300,
            )
        except KairosError as exc:
            return ExecutionResult(output=plain.output, result={"summary_error": exc.message})
        text = f"Summary (AI): {summary.text}\n\n{plain.output}"
        return ExecutionResult(
            output=text, result={"summary": summary.text, "model": summary.model}
        )
