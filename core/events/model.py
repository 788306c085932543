"""The neutral event model: what every source records, and how sources are named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.errors import InvalidInput


class SourceKind(StrEnum):
    """What produced an event; ``kind:name`` is what an ``event`` schedule listens for."""

    WEBHOOK = "webhook"
    POSTGRES = "postgres"
    FILE = "file"
    CONDITION = "condition"
    TASK = "task"
    SUPABASE = "supabase"  # Supabase Realtime (integrations/supabase/realtime.py)


#: Task events a task can wait for (``task_completed:42``), emitted by the workers.
TASK_EVENTS = ("task_completed", "task_failed", "task_failed_streak")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def source_name(value: str) -> str:
    """A webhook's or condition's name as it appears in a URL: lower case, no spaces."""
    name = value.strip().lower().replace(" ", "-")
    if not _NAME.match(name):
        raise InvalidInput(
            f"{value!r} is not a usable source name.",
            hint="Use 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit.",
        )
    return name


def event_name(kind: SourceKind | str, name: str) -> str:
    """The name an ``event`` schedule uses for a source (``webhook:deploy``)."""
    return f"{kind}:{name}"


def split_event_name(value: str) -> tuple[str, str]:
    """``("webhook", "deploy")`` from ``webhook:deploy``; the kind is empty if there is none."""
    kind, sep, name = value.partition(":")
    return (kind, name) if sep else ("", value)


@dataclass(frozen=True, slots=True)
class EventIn:
    """An event as a source hands it to the store.

    ``dedupe_key`` is unique per source: the same key recorded twice (a webhook
    re-delivered, a file seen again with the same mtime and size) is one event.
    ``name`` is what subscribers listen for; usually ``kind:source``.
    """

    kind: SourceKind
    source: str
    dedupe_key: str
    payload: Any
    received_at: datetime

    @property
    def name(self) -> str:
        if self.kind is SourceKind.TASK:
            return self.source  # task events are named in full (``task_completed:42``)
        return event_name(self.kind, self.source)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as read back for delivery."""

    id: int
    name: str
    received_at: datetime
