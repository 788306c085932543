"""Event sources and the durable events they produce (``core.events``).

An ``EventSource`` is something that can fire: a webhook (with its secret), a
PostgreSQL channel or table, a watched directory, a condition probe. An
``Event`` is one firing, committed before its source is acknowledged and unique
per ``(source_kind, source_name, dedupe_key)``; ``delivered_at`` is set in the
transaction that turned it into runs (``runs.event_id``, unique per task and
attempt), so an event stored but not delivered is found again after a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UtcDateTime, utcnow


class EventSource(SQLModel, table=True):
    """A named source of events; ``kind`` + ``name`` is what a schedule listens for."""

    __tablename__ = "event_sources"
    __table_args__ = (sa.UniqueConstraint("kind", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", index=True)
    kind: str = Field(max_length=16)
    name: str = Field(max_length=200)
    #: A webhook's HMAC key. It must be usable for verification, so it is stored as
    #: given (never logged, shown once to the person who created or rotated it).
    secret: str | None = Field(default=None, sa_type=sa.Text)
    config: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON()))
    #: A condition's last result (``{"true": bool, "checked_at": …}``): survives restarts.
    state: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON()))
    created_by: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UtcDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UtcDateTime(), nullable=False)
    )


class Event(SQLModel, table=True):
    """One firing of a source, stored before the source is acknowledged."""

    __tablename__ = "events"
    __table_args__ = (sa.UniqueConstraint("source_kind", "source_name", "dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source_kind: str = Field(max_length=16)
    source_name: str = Field(max_length=200)
    dedupe_key: str = Field(max_length=300)
    payload: Any = Field(default=None, sa_column=sa.Column(sa.JSON()))
    received_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    delivered_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UtcDateTime(), nullable=True, index=True)
    )
