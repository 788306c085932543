"""The run store's value types: what goes in (fires, outcomes) and what comes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.enums import RunStatus, RunTrigger


@dataclass(frozen=True, slots=True)
class NewRun:
    """A run to insert: a fire (or a skipped fire, when ``skip_reason`` is set)."""

    task_id: int
    scheduled_for: datetime
    trigger: RunTrigger = RunTrigger.SCHEDULE
    attempt: int = 1
    not_before: datetime | None = None  # defaults to ``scheduled_for``
    skip_reason: str | None = None
    #: The workflow pass the run belongs to (``core.store.release``).
    workflow_run_id: int | None = None
    #: The status a run with ``skip_reason`` is written with: skipped, or blocked by a
    #: failed prerequisite.
    skip_status: RunStatus = RunStatus.SKIPPED
    event_id: int | None = None  # the event an event-triggered run (and its retries) answers


@dataclass(frozen=True, slots=True)
class CursorMove:
    """Advance ``tasks.next_fire_at`` from ``expected`` to ``new`` (compare-and-set)."""

    task_id: int
    expected: datetime
    new: datetime | None


@dataclass(frozen=True, slots=True)
class FiredRun:
    """A run row this call inserted (``pending`` unless it was a skipped fire)."""

    run_id: int
    task_id: int
    scheduled_for: datetime
    attempt: int
    status: RunStatus = RunStatus.PENDING
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClaimedRun:
    """A run now ``running`` under this worker's lease."""

    run_id: int
    task_id: int
    scheduled_for: datetime
    attempt: int
    trigger: RunTrigger
    lease_owner: str
    retry_of_crash: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a running attempt ended; ``retry_at`` schedules attempt + 1 (status RETRYING)."""

    run_id: int
    owner: str
    status: RunStatus
    output: str | None = None
    error: str | None = None
    duration_ms: int | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A side effect an attempt completed (one chat post to ``target``), recorded at once."""

    run_id: int
    owner: str
    target: str
    ref: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class FireInfo:
    """What the engine needs to turn a due task into runs (no ORM object)."""

    task_id: int
    schedule: dict[str, Any] | None
    next_fire_at: datetime | None
    schedulable: bool
    misfire_policy: str
    misfire_grace_seconds: int
