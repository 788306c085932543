"""The inbox of chat commands acknowledged before their work was done.

A slash command whose work outlasts Slack's acknowledgement window is written
here (one short commit) before it is answered "Working on it…". Its process
leases it (``claimed_by``/``lease_until``, like runs) and marks it ``done``
right after the work; the entry of a process that died is taken over by
another one, which does the work and answers through ``response_url``.
``dedupe_key`` (Slack's ``trigger_id``) is unique: one command, one entry.
Only ``core.store.inbox`` opens sessions on it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UtcDateTime


class InboxCommand(SQLModel, table=True):
    """One received command, pending until its work is done."""

    __tablename__ = "chat_inbox"
    __table_args__ = (
        sa.UniqueConstraint("platform", "dedupe_key", name="uq_chat_inbox_once"),
        sa.Index("ix_chat_inbox_pending", "status", "lease_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    dedupe_key: str = Field(max_length=128)
    workspace: str = Field(max_length=64)
    channel: str = Field(default="", max_length=64)
    user: str = Field(max_length=64)
    user_name: str = Field(default="", max_length=128)
    text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    response_url: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    received_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    #: ``pending`` → ``done`` (work finished, by whoever held it) | ``expired``.
    status: str = Field(default="pending", max_length=16)
    claimed_by: str = Field(max_length=128)
    lease_until: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
    attempts: int = Field(default=1)
    done_at: datetime | None = Field(default=None, sa_column=sa.Column(UtcDateTime()))
