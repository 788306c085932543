"""Enumerations shared by the domain, the store and the chat layer."""

from __future__ import annotations

from enum import StrEnum


class Platform(StrEnum):
    CONSOLE = "console"
    SLACK = "slack"
    DISCORD = "discord"
    WEB = "web"


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class TaskKind(StrEnum):
    REMINDER = "reminder"
    TASK = "task"
    JOB = "job"
    WORKFLOW = "workflow"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    PAUSED = "paused"
    DELETED = "deleted"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    RETRYING = "retrying"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.SKIPPED,
        RunStatus.CANCELLED,
        RunStatus.RETRYING,
    }
)


class RunTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    RETRY = "retry"
    MISFIRE = "misfire"
    EVENT = "event"
    DEPENDENCY = "dependency"


class MisfirePolicy(StrEnum):
    SKIP = "skip"
    RUN_ONCE = "run_once"
    CATCH_UP = "catch_up"
