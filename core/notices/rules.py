"""The notification rules: from what happened to the notices it calls for (pure).

- **assigned** — someone other than the actor was assigned to a task.
- **due_soon** — a day and an hour before an open task's due time (``DUE_SOON``).
- **overdue** — once, when the due time passes and the task is still open.
- **prerequisite_done** / **prerequisite_failed** — a task another depends on
  was completed (or its job succeeded) / its job failed for good.
- **workflow_done** / **workflow_failed** — a workflow finished (reported by
  whoever runs workflows through ``NoticeService.workflow_finished``).
- **at_risk** — an open task due soon whose estimate is longer than the time
  left (``core.insight.estimates``), once per due time.

Each draft names its task, rule and instant; with the recipient that is the
notice's unique key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class Rule(StrEnum):
    ASSIGNED = "assigned"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PREREQUISITE_DONE = "prerequisite_done"
    PREREQUISITE_FAILED = "prerequisite_failed"
    WORKFLOW_DONE = "workflow_done"
    WORKFLOW_FAILED = "workflow_failed"
    AT_RISK = "at_risk"


#: How long before the due time "due soon" notices go out.
DUE_SOON = (timedelta(days=1), timedelta(hours=1))


@dataclass(frozen=True, slots=True)
class Draft:
    """A notice to plan: about ``task_id``, for ``people``, deliverable from ``at``."""

    task_id: int
    rule: Rule
    instant: datetime
    at: datetime
    people: tuple[str, ...]
    detail: dict[str, Any] = field(default_factory=dict)


def due_drafts(
    task_id: int, due: datetime, people: tuple[str, ...], *, now: datetime
) -> list[Draft]:
    """Due-soon notices still ahead and the overdue notice, for a task due at ``due``."""
    out = [
        Draft(task_id, Rule.DUE_SOON, due - before, due - before, people,
              {"before_s": int(before.total_seconds())})
        for before in DUE_SOON
        if due - before > now
    ]  # fmt: skip
    out.append(Draft(task_id, Rule.OVERDUE, due, due, people))
    return out


def recipients(assignees: list[str], creator: str | None) -> tuple[str, ...]:
    """A task's people: its assignees, else whoever created it."""
    if assignees:
        return tuple(assignees)
    return (creator,) if creator else ()


def still_true(
    rule: Rule,
    instant: datetime,
    *,
    status: str,
    due: datetime | None,
    detail: dict[str, Any],
    now: datetime,
) -> str | None:
    """Why a planned notice should no longer go out (``None``: it still holds)."""
    if status == "deleted":
        return "the task was deleted"
    if rule is Rule.AT_RISK and (status != "open" or due != instant):
        return "the task is no longer open with that due time"
    if rule in (Rule.DUE_SOON, Rule.OVERDUE):
        if status != "open":
            return f"the task is {status}"
        before = timedelta(seconds=int(detail.get("before_s", 0)))
        if due is None or due - before != instant:
            return "the due time changed"
        if rule is Rule.DUE_SOON and due <= now:
            return "the due time has passed (the overdue notice says it)"
    return None
