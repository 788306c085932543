"""Tables of proactive notifications: per-person preferences and the notice outbox.

A ``Notice`` is one notification to one person (or one place) about one task,
for one rule at one instant: ``(task_id, rule, instant, person)`` is unique, so
planning the same notice twice — after a restart, on another replica — adds
nothing, and it is sent once. ``deliver_at`` is when it may go out (moved later
by quiet hours or batching). ``NoticeMark`` keeps how far the planner has read
the audit trail. Only ``core.store.notices`` opens sessions on them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UtcDateTime, utcnow


class NoticePref(SQLModel, table=True):
    """How one member wants to be notified."""

    __tablename__ = "notice_prefs"
    __table_args__ = (sa.UniqueConstraint("member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    #: ``dm``, ``thread`` (the task's thread) or ``channel`` (the task's channel).
    route: str = Field(default="dm", max_length=16)
    #: Quiet hours as local "HH:MM" in the member's zone; both or neither.
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    #: Low-priority notices are sent together, once per this many minutes.
    batch_minutes: int | None = None
    muted: list[int] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UtcDateTime(), nullable=False)
    )


class Notice(SQLModel, table=True):
    """One notification, planned once, sent once."""

    __tablename__ = "notices"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "rule", "instant", "person", name="uq_notices_once"),
        sa.Index("ix_notices_due", "status", "deliver_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    task_id: int = Field(foreign_key="tasks.id")
    rule: str = Field(max_length=32)
    instant: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    #: The platform user id it is for.
    person: str = Field(max_length=64)
    low: bool = Field(default=False)
    detail: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON()))
    #: ``pending`` → ``sent`` | ``dropped`` (no longer true, or muted).
    status: str = Field(default="pending", max_length=16)
    deliver_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=sa.Column(UtcDateTime()))
    note: str | None = Field(default=None, max_length=200)


class NoticeMark(SQLModel, table=True):
    """How far a reader has got (the last audit event id the planner handled)."""

    __tablename__ = "notice_marks"

    name: str = Field(primary_key=True, max_length=32)
    value: int = Field(default=0, sa_type=sa.BigInteger)
