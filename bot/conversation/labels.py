"""Kairos's fixed words on cards, buttons and posts, in the reader's language.

Field labels ("Due"), button labels ("Snooze 1 h") and the frames of posts
("✓ {task} completed in {took}: {summary}") form one catalog, translated
together once per language (``ReplyLanguage.labels``) and kept in memory, so a
card costs no translation of its own. What people wrote — a title, a script's
summary — is put into a frame after the translation (``Labels.fill``): it never
reaches a translator and comes out byte for byte. Without a translation (no key,
English, a failure) every word is Kairos's English, exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from core.messages import ENGLISH, Labels
from core.models import TaskPublic
from core.notices.wording import BATCH_HEADER

#: Everything translated in one request per language. A word not listed here stays
#: English; placeholders in braces are filled in after the translation.
CATALOG: tuple[str, ...] = (
    # task cards: Slack fields, Discord embed fields
    "Due",
    "Repeats",
    "Next",
    "Assignees",
    "Priority",
    # their values: priorities and finished states
    "low",
    "normal",
    "high",
    "urgent",
    "open",
    "paused",
    "done",
    "deleted",
    # task lists: Slack blocks, Discord embeds, App Home
    "overdue",
    "…and {count} more",
    # how runs stand (App Home, run lists)
    "pending",
    "running",
    "completed",
    "failed",
    "skipped",
    "retrying",
    "cancelled",
    "blocked",
    # buttons
    "Done",
    "Reopen",
    "Snooze 20 min",
    "Snooze 1 h",
    "Snooze Tomorrow",
    "Tomorrow",
    "Run now",
    "Edit",
    "Show log",
    "Run again",
    # how a job ended (bot.notify.result_text)
    "✓ {task} completed in {took}: {summary}",
    "✗ {task} failed after {took}: {error}",
    "✗ {task} failed after {took} (attempt {attempt}; it will be retried): {error}",
    "(output cut; the full log is attached, or {command})",
    "Your job failed.",
    # batched notifications
    BATCH_HEADER,
    # a reply too long for one Discord message
    "(cut; the full text is attached)",
    # Slack's App Home
    "Your open tasks",
    "Nothing open. Try `/kairos remind me to stretch at 3pm`.",
    "…and {count} more — `/kairos list` shows all.",
    "Upcoming reminders",
    "No reminders scheduled.",
    "Recent runs",
    "No runs yet.",
)


class LabelSource(Protocol):
    """Where surfaces get the catalog in a language (``ReplyLanguage``)."""

    async def labels(self, language: str, *, workspace_id: int | None) -> Labels: ...

    async def texts(
        self,
        texts: Sequence[str],
        language: str,
        *,
        workspace_id: int | None,
        each: bool = False,
    ) -> list[str]: ...

    async def around(
        self,
        texts: Sequence[str],
        language: str,
        *,
        workspace_id: int | None,
        verbatim: Sequence[str],
    ) -> list[str]: ...


async def labels_of(
    source: LabelSource | None,
    language: str,
    workspace_id: int,
    *,
    phrases: Iterable[str] = (),
) -> Labels:
    """The catalog in ``language`` from ``source``, with ``phrases`` too — values
    Kairos wrote for this card ("every weekday at 9:30", "tomorrow 15:00"; their
    times and ids kept, each phrase English alone when its translation lost one).
    English without a source."""
    if source is None or language == "en":
        return ENGLISH
    labels = await source.labels(language, workspace_id=workspace_id)
    wanted = [p for p in dict.fromkeys(phrases) if p and p not in labels.words]
    if not wanted or labels is ENGLISH:  # the catalog failed: the phrases would too
        return labels
    got = await source.texts(wanted, language, workspace_id=workspace_id, each=True)
    extra = {e: t for e, t in zip(wanted, got, strict=True) if t != e}
    return replace(labels, words={**labels.words, **extra}) if extra else labels


async def in_task_language(source: LabelSource | None, task: TaskPublic, text: str) -> str:
    """Kairos's ``text`` about ``task`` in the task's language, its title held out of the
    translation (ids, channels and commands kept); ``text`` as it is without a source,
    for an English task, or when that cannot be done."""
    if source is None or task.language == "en":
        return text
    (said,) = await source.around(
        [text], task.language, workspace_id=task.workspace_id, verbatim=[task.title]
    )
    return said
