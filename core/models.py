"""The data model: SQLModel tables and their public/create/update families.

Every datetime is stored timezone-aware in UTC (``UtcDateTime``), on SQLite as on
PostgreSQL. Schedules, actions and retry policies are stored as JSON data.
Only ``core.store`` opens sessions on these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from core.enums import (
    MisfirePolicy,
    Platform,
    Priority,
    Role,
    RunStatus,
    RunTrigger,
    TaskKind,
    TaskStatus,
)

#: Deterministic constraint names, identical on SQLite and PostgreSQL. Alembic's batch
#: mode (SQLite ALTER emulation) can only drop or alter constraints that have names.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, normalised to UTC on the way in and out.

    SQLite has no zone-aware type; PostgreSQL has ``timestamptz``. Both come back
    as aware UTC datetimes, and naive datetimes are refused rather than guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class RunStatusString(TypeDecorator[RunStatus]):
    """A ``RunStatus`` stored as its text value and read back as the enum.

    A plain ``String`` column hands back ``str``: equal to the enum member, but
    not the member, so ``status is RunStatus.COMPLETED`` would be false. Every
    ORM and Core read of a run's status goes through this type instead.
    """

    impl = sa.String(16)
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> RunStatus | None:
        return None if value is None else RunStatus(value)


def _dt(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(UtcDateTime(), nullable=nullable, index=index),
    )


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=sa.Column(UtcDateTime(), nullable=False))


def _json(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=nullable))


# --- workspaces and members -------------------------------------------------


class Workspace(SQLModel, table=True):
    """One team on one chat platform (a Slack workspace, a Discord guild, the console)."""

    __tablename__ = "workspaces"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: Platform = Field(sa_type=sa.String(16))
    external_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    default_timezone: str = Field(default="UTC", max_length=64)
    created_at: datetime = _created()


class Member(SQLModel, table=True):
    """A person in a workspace, known by their platform user id."""

    __tablename__ = "members"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    platform_user_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    role: Role = Field(default=Role.MEMBER, sa_type=sa.String(16))
    created_at: datetime = _created()


# --- tasks ------------------------------------------------------------------


class TaskBase(SQLModel):
    kind: TaskKind = Field(default=TaskKind.TASK, sa_type=sa.String(16))
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=10_000)
    priority: Priority = Field(default=Priority.NORMAL, sa_type=sa.String(16))
    timezone: str = Field(default="UTC", max_length=64)
    channel_ref: str | None = Field(default=None, max_length=200)
    thread_ref: str | None = Field(default=None, max_length=200)
    misfire_policy: MisfirePolicy = Field(default=MisfirePolicy.RUN_ONCE, sa_type=sa.String(16))
    misfire_grace_seconds: int = Field(default=3600, ge=0)
    #: Created in a direct message: only its creator and assignees see it.
    private: bool = Field(default=False)
    #: The language its creator spoke (ISO 639-1): Kairos's own words in its later
    #: posts (reminders, results, notices) are put into it (``bot.postings``).
    language: str = Field(default="en", max_length=8, sa_column_kwargs={"server_default": "en"})


class Task(TaskBase, table=True):
    """A reminder, tracked task, job or workflow.

    ``schedule`` is a ``core.schedule.ScheduleSpec`` dump, ``action`` what a job
    does, ``retry_policy`` a ``core.retry.RetryPolicy`` dump. ``next_fire_at`` is
    the engine's durable cursor: the next fire not yet turned into a run.
    """

    __tablename__ = "tasks"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    status: TaskStatus = Field(default=TaskStatus.OPEN, sa_type=sa.String(16), index=True)
    due: datetime | None = _dt(index=True)
    schedule: dict[str, Any] | None = _json()
    action: dict[str, Any] | None = _json()
    retry_policy: dict[str, Any] | None = _json()
    enabled: bool = Field(default=True)
    next_fire_at: datetime | None = _dt(index=True)
    #: Bumped by every write that can move fires (see ``core.store.changes``): engines
    #: in other processes rescan the tasks whose counter passed the last one they saw.
    change_seq: int = Field(
        default=0, sa_type=sa.BigInteger, index=True, sa_column_kwargs={"server_default": "0"}
    )
    created_by: int | None = Field(default=None, foreign_key="members.id")
    last_modified_by: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = _created()
    updated_at: datetime = _created()
    completed_at: datetime | None = _dt()
    deleted_at: datetime | None = _dt()
    #: The workflow this task is a step of (``core.models_workflows``), and the rule its
    #: prerequisites are judged by (``core.workflows.rules.TriggerRule``).
    workflow_id: int | None = Field(default=None, foreign_key="workflows.id", index=True)
    trigger_rule: str = Field(
        default="all_success", max_length=16, sa_column_kwargs={"server_default": "all_success"}
    )


#: PostgreSQL's source of ``tasks.change_seq`` values (SQLite takes the column's maximum + 1:
#: it has one writer at a time).
TASK_CHANGE_SEQ = sa.Sequence("task_change_seq", metadata=SQLModel.metadata)


class TaskCreate(TaskBase):
    """What a caller gives to create a task (validated by the task service)."""

    due: datetime | None = None
    schedule: dict[str, Any] | None = None
    action: dict[str, Any] | None = None
    retry_policy: dict[str, Any] | None = None
    enabled: bool = True
    assignees: list[str] = Field(default_factory=list)
    depends_on: list[int] = Field(default_factory=list)


class TaskUpdate(SQLModel):
    """A partial change; fields left unset are not touched."""

    title: str | None = None
    description: str | None = None
    priority: Priority | None = None
    due: datetime | None = None
    timezone: str | None = None
    schedule: dict[str, Any] | None = None
    action: dict[str, Any] | None = None
    retry_policy: dict[str, Any] | None = None
    channel_ref: str | None = None
    thread_ref: str | None = None
    enabled: bool | None = None
    misfire_policy: MisfirePolicy | None = None
    misfire_grace_seconds: int | None = None
    private: bool | None = None
    assignees: list[str] | None = None
    depends_on: list[int] | None = None


class TaskPublic(TaskBase):
    """A task as shown to callers, with its assignees' platform ids."""

    id: int
    workspace_id: int
    status: TaskStatus
    due: datetime | None
    schedule: dict[str, Any] | None
    action: dict[str, Any] | None
    retry_policy: dict[str, Any] | None
    enabled: bool
    next_fire_at: datetime | None
    created_by: int | None
    last_modified_by: int | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    deleted_at: datetime | None
    assignees: list[str] = Field(default_factory=list)
    depends_on: list[int] = Field(default_factory=list)


class TaskAssignee(SQLModel, table=True):
    __tablename__ = "task_assignees"

    task_id: int = Field(foreign_key="tasks.id", primary_key=True)
    member_id: int = Field(foreign_key="members.id", primary_key=True, index=True)


class TaskDependency(SQLModel, table=True):
    """``successor`` may start only after ``predecessor`` (an edge of the DAG)."""

    __tablename__ = "task_dependencies"

    predecessor_id: int = Field(foreign_key="tasks.id", primary_key=True)
    successor_id: int = Field(foreign_key="tasks.id", primary_key=True, index=True)


# --- runs -------------------------------------------------------------------


class Run(SQLModel, table=True):
    """One execution attempt of a task for one fire time.

    ``(task_id, scheduled_for, attempt)`` is unique: a fire can never produce two
    runs. A retry is a new row with the same ``scheduled_for`` and ``attempt + 1``,
    claimable from ``not_before``. ``lease_owner``/``lease_expires_at`` let
    several workers and replicas share runs safely.
    """

    __tablename__ = "runs"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "scheduled_for", "attempt", name="uq_runs_fire_attempt"),
        sa.Index("ix_runs_claim", "status", "not_before"),
        sa.UniqueConstraint("task_id", "event_id", "attempt", name="uq_runs_event_attempt"),
        # A pass's latest run of one step: the release reads it for every finishing run.
        sa.Index("ix_runs_workflow_run_task", "workflow_run_id", "task_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", index=True)
    scheduled_for: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    attempt: int = Field(default=1, ge=1)
    status: RunStatus = Field(default=RunStatus.PENDING, sa_type=RunStatusString())
    trigger: RunTrigger = Field(default=RunTrigger.SCHEDULE, sa_type=sa.String(16))
    not_before: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    created_at: datetime = _created()
    started_at: datetime | None = _dt()
    finished_at: datetime | None = _dt()
    duration_ms: int | None = None
    output: str | None = Field(default=None, sa_type=sa.Text)
    error: str | None = Field(default=None, sa_type=sa.Text)
    # What the executor produced (``core.executors.reporting``): the exit or HTTP
    # status, the captured output up to the cap, the full log's location, rows.
    exit_code: int | None = None
    http_status: int | None = None
    log_excerpt: str | None = Field(default=None, sa_type=sa.Text)
    log_path: str | None = Field(default=None, max_length=1000)
    result: dict[str, Any] | None = _json()
    traceback: str | None = Field(default=None, sa_type=sa.Text)
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = _dt()
    # Set right after a side effect (a chat post) happened, before the outcome is
    # written: a retry of a cut-off attempt reads them and does not repeat it.
    delivered_at: datetime | None = _dt()
    delivery_ref: str | None = Field(default=None, sa_type=sa.Text)
    #: The workflow pass this run belongs to (``core.models_workflows.WorkflowRun``).
    workflow_run_id: int | None = Field(default=None, foreign_key="workflow_runs.id")
    #: The event that triggered this run (``core.events``); unique per task and attempt.
    event_id: int | None = Field(default=None, index=True)


class RunEvent(SQLModel, table=True):
    """A timestamped status transition of a run (the run's full history)."""

    __tablename__ = "run_events"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="runs.id", index=True)
    status: RunStatus = Field(sa_type=RunStatusString())
    at: datetime = _created()
    detail: str | None = Field(default=None, sa_type=sa.Text)


# --- audit ------------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """Who did what to which task, and when."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="members.id")
    action: str = Field(max_length=64)
    task_id: int | None = Field(default=None, foreign_key="tasks.id", index=True)
    details: dict[str, Any] | None = _json()
    at: datetime = _created()


# --- conversation memory ------------------------------------------------------


class ConversationState(SQLModel, table=True):
    """One thing the conversation remembers about a person in a place, until it expires.

    ``kind`` is what it is (the task last discussed, the reminder last fired, a
    question asked, a reading waiting for "yes", the last change for undo);
    ``person`` is the platform user id, or ``*`` for everyone in the place (a
    reminder posted to a channel). Kept in the database so that restarts and
    other replicas see it.
    """

    __tablename__ = "conversation_states"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "place", "person", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    place: str = Field(max_length=300)
    person: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    task_id: int | None = None
    payload: dict[str, Any] | None = _json()
    expires_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False, index=True))
