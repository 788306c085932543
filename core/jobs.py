"""What an executor receives: a frozen job value, never an ORM row.

The worker builds one ``Job`` per claimed attempt from the run and a snapshot of
its task. Executors read what they need from it and cannot change the store by
accident (procrastinate's ``Job`` is the model).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

from core.enums import RunTrigger, TaskKind
from core.models import Task


class LogSink(Protocol):
    """Where an executor streams an attempt's output (``stdout``, ``stderr``, ``info``)."""

    async def write(self, stream: str, text: str) -> None: ...


class NullLogSink:
    """Discards everything (executors with nothing to stream, tests)."""

    async def write(self, stream: str, text: str) -> None:
        return None


class DeliveryLog(Protocol):
    """Where an executor records a side effect the moment it happened (``docs/delivery.md``).

    ``record`` is called right after, e.g., a chat post returned: the worker
    commits it within milliseconds, ahead of the attempt's outcome, so a retry of
    an attempt that was cut off can tell what already happened (``earlier``).
    """

    def record(self, target: str, ref: str | None) -> None:
        """Note that ``target`` (a channel, a person…) got it; ``ref`` is the message id."""
        ...

    async def earlier(self) -> Mapping[str, tuple[int, str | None]]:
        """What earlier attempts of this fire delivered: target → (attempt, ref)."""
        ...


class NullDeliveryLog:
    """Remembers nothing (jobs built outside a worker, tests)."""

    def record(self, target: str, ref: str | None) -> None:
        return None

    async def earlier(self) -> Mapping[str, tuple[int, str | None]]:
        return {}


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    """The task's fields an executor may need, copied when the attempt starts."""

    id: int
    workspace_id: int
    kind: TaskKind
    title: str
    description: str
    timezone: str
    channel_ref: str | None
    thread_ref: str | None
    created_by: int | None
    action: Mapping[str, Any]
    #: Its creator's language (ISO 639-1): Kairos's own words in posts about it.
    language: str = "en"

    @classmethod
    def of(cls, task: Task) -> TaskSnapshot:
        assert task.id is not None
        return cls(
            id=task.id,
            workspace_id=task.workspace_id,
            kind=TaskKind(task.kind),
            title=task.title,
            description=task.description,
            timezone=task.timezone,
            channel_ref=task.channel_ref,
            thread_ref=task.thread_ref,
            created_by=task.created_by,
            action=_frozen(task.action or {}),
            language=task.language or "en",
        )


@dataclass(frozen=True, slots=True)
class Job:
    """One attempt of one run, as an executor sees it.

    ``retry_of_crash`` is true when the previous attempt of this fire was cut
    off (its worker died or lost its lease) rather than failing on its own: a
    notifier should check whether that attempt already delivered.

    ``event`` is the payload of the event that triggered this run (a webhook's
    body, a row change…), read-only; ``None`` for scheduled and manual runs.
    HTTP templates see it as ``{event.<key>…}``.
    """

    run_id: int
    task: TaskSnapshot
    scheduled_for: datetime
    attempt: int
    trigger: RunTrigger
    timeout_seconds: float
    retry_of_crash: bool = False
    log: LogSink = field(default_factory=NullLogSink)
    deliveries: DeliveryLog = field(default_factory=NullDeliveryLog)
    #: The payload of the event that triggered this run (``core.events``), else ``None``.
    event: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.event is not None:  # read-only all the way down, like the action
            object.__setattr__(self, "event", _frozen(self.event))

    @property
    def task_id(self) -> int:
        return self.task.id

    @property
    def workspace_id(self) -> int:
        return self.task.workspace_id

    @property
    def action(self) -> Mapping[str, Any]:
        return self.task.action
