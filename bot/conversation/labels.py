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

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from core.messages import Button
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
    "done",
    "deleted",
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
)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(text: str) -> list[str]:
    """The ``{name}`` placeholders of a catalog frame (a translation must keep them)."""
    return [m[0] for m in _PLACEHOLDER.finditer(text)]


@dataclass(frozen=True, slots=True)
class Labels:
    """The catalog in one language: English text → its translation."""

    language: str = "en"
    words: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, english: str) -> str:
        """``english`` in this language, or as it is when not translated."""
        return self.words.get(english, english)

    def fill(self, english: str, **parts: object) -> str:
        """The frame ``english`` in this language with ``parts`` put in as they are
        (one pass: a part that holds braces is never filled in itself)."""
        return _PLACEHOLDER.sub(
            lambda m: str(parts[m[1]]) if m[1] in parts else m[0], self(english)
        )

    def buttons(self, buttons: Iterable[Button]) -> tuple[Button, ...]:
        """``buttons`` with their labels in this language (values unchanged)."""
        return tuple(replace(b, label=self(b.label)) for b in buttons)


#: Kairos's own English: what every surface shows without a translation.
ENGLISH = Labels()


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
