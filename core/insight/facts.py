"""What the analytics read: frozen facts about tasks and runs, free of ORM rows.

``core.store.insight`` loads them from the database; the pure functions of
``core.insight`` (reports, estimates, charts) take them, so they can be tested
on generated histories without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: Where a task without a channel was made (a direct message).
DIRECT = "(direct)"
#: The person column of a task nobody is assigned to.
UNASSIGNED = "(unassigned)"


@dataclass(frozen=True, slots=True)
class TaskFact:
    """A task as the analytics see it (``assignees`` are platform user ids)."""

    id: int
    title: str
    kind: str
    status: str
    created_at: datetime
    due: datetime | None = None
    completed_at: datetime | None = None
    channel: str | None = None
    assignees: tuple[str, ...] = ()
    priority: str = "normal"
    #: The first task it depends on: tasks of one chain or workflow share it.
    workflow: int | None = None

    @property
    def duration_hours(self) -> float | None:
        """How long it took from creation to completion (``None`` while not done)."""
        if self.completed_at is None:
            return None
        return max(0.0, (self.completed_at - self.created_at).total_seconds() / 3600)

    @property
    def people(self) -> tuple[str, ...]:
        return self.assignees or (UNASSIGNED,)

    @property
    def place(self) -> str:
        return f"#{self.channel}" if self.channel else DIRECT

    def done_by(self, when: datetime) -> bool:
        return self.completed_at is not None and self.completed_at < when

    def overdue_at(self, when: datetime) -> bool:
        """Open at ``when`` with its due time already passed."""
        return (
            self.due is not None
            and self.due < when
            and self.status != "deleted"
            and not self.done_by(when)
        )


@dataclass(frozen=True, slots=True)
class RunFact:
    """One ended (or waiting) attempt of a job."""

    task_id: int
    title: str
    status: str
    scheduled_for: datetime
    duration_ms: int | None = None
    attempt: int = 1

    @property
    def ended(self) -> bool:
        return self.status in ("completed", "failed", "retrying")

    @property
    def ok(self) -> bool:
        return self.status == "completed"
