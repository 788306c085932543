"""Platform-neutral chat messages: what every adapter translates to and from.

Adapters (``bot/``) turn Slack/Discord/console payloads into ``Inbound`` and
render ``Reply`` into Block Kit, embeds or text. Raw platform dicts never get here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from core.enums import Platform

if TYPE_CHECKING:
    from core.models import TaskPublic


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person said to Kairos.

    ``thread_ref`` is set when the message is a reply in a thread (for Kairos's
    task cards, the thread names the task); ``channel_ref`` is where it was said.
    """

    platform: Platform
    workspace_ref: str
    user_ref: str
    text: str
    channel_ref: str | None = None
    thread_ref: str | None = None
    message_ref: str | None = None
    is_direct: bool = False
    user_name: str = ""
    user_timezone: str | None = None
    #: When it was said, if Kairos reads it later (a command taken over after a
    #: crash): "in 10 minutes" counts from then. ``None``: just now.
    sent_at: datetime | None = None


class ReplyKind(StrEnum):
    TEXT = "text"
    CONFIRMATION = "confirmation"  # something was created or changed
    TASK_LIST = "task_list"
    QUESTION = "question"  # asking back before acting
    REMINDER = "reminder"  # a reminder firing
    ERROR = "error"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class Button:
    """An action offered with a reply (Done, Snooze 1h, Run now, ...)."""

    label: str
    action: str
    value: str = ""


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(text: str) -> list[str]:
    """The ``{name}`` placeholders of a frame (a translation must keep them)."""
    return [m[0] for m in _PLACEHOLDER.finditer(text)]


@dataclass(frozen=True, slots=True)
class Labels:
    """Kairos's fixed words in one language: English text → its translation
    (the catalog is ``bot.conversation.labels.CATALOG``)."""

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


@dataclass(frozen=True, slots=True)
class TaskLine:
    """One task in a list reply, already formatted for the user's time zone."""

    task_id: int
    title: str
    when: str = ""
    status: str = ""
    priority: str = ""
    assignees: tuple[str, ...] = ()
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply (a job's full log): surfaces that can upload files do."""

    filename: str
    content: str
    #: Binary content (a PNG drawing) instead of text; ``content`` is then its caption.
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of lines (a digest's "Overdue", "Due today"…)."""

    title: str
    lines: tuple[str, ...] = ()


#: ``Reply.fields`` that are notes to the surfaces, never shown as fields: a list's
#: heading (the console's table title), a reply meant for the channel, the state of
#: the task a reply is about, the workspace a reply goes to.
NOTE_FIELDS = frozenset({"heading", "public", "status", "workspace_ref"})


@dataclass(frozen=True, slots=True)
class Reply:
    """What Kairos says back. ``text`` is always a complete plain-text rendering;
    richer surfaces may use the structured fields instead."""

    text: str
    kind: ReplyKind = ReplyKind.TEXT
    task_id: int | None = None
    tasks: tuple[TaskLine, ...] = ()
    buttons: tuple[Button, ...] = ()
    ephemeral: bool = False
    channel_ref: str | None = None
    thread_ref: str | None = None
    user_ref: str | None = None
    #: Labelled values surfaces show (Slack fields, embed fields), and Kairos's notes
    #: to them that no one sees (``NOTE_FIELDS``).
    fields: dict[str, str] = field(default_factory=dict)
    attachment: Attachment | None = None
    #: One fire's post to one place, the same across its attempts: the adapter tags
    #: the message with it (Slack: message metadata) so that a retry can find it.
    delivery_key: str | None = None
    #: Look for a message tagged ``delivery_key`` before posting, and post only if
    #: none is found (a retry after a crashed attempt that may have posted).
    unless_posted: bool = False
    #: ``task_id``'s task as the sender has just read it, so that the adapter does
    #: not read it again (a burst of reminders); ``None``: the adapter reads it.
    task: TaskPublic | None = field(default=None, compare=False, repr=False)
    #: Structured sections (a digest) that richer surfaces show as blocks; ``text``
    #: already holds them as plain text.
    sections: tuple[Section, ...] = ()
    #: Kairos's fixed words for what renderers add to this reply (default buttons,
    #: "…and 3 more", "overdue"), in the language its text was put into.
    labels: Labels = field(default=ENGLISH, compare=False, repr=False)

    @property
    def shown_fields(self) -> dict[str, str]:
        """The ``fields`` people see: all but Kairos's notes to the surfaces."""
        return {k: v for k, v in self.fields.items() if k not in NOTE_FIELDS}
