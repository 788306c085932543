"""Tables a chat platform's adapter keeps in Kairos's database.

Platform-neutral on purpose (Slack today, Discord tomorrow): app installations
per workspace (OAuth), inbound event ids already handled (so a platform's
retries never act twice, across replicas), and OAuth ``state`` values in flight.
Only ``core.store.chat`` opens sessions on them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UtcDateTime, utcnow


class ChatInstallation(SQLModel, table=True):
    """One installation of the app into a workspace (or by one user in it).

    ``user_id`` is ``""`` for the workspace's latest installation, which is what
    the bot token is read from; the installing user's own row keeps their token.
    ``data`` is the platform library's installation record (it holds tokens:
    never log or display it).
    """

    __tablename__ = "chat_installations"
    __table_args__ = (sa.UniqueConstraint("platform", "enterprise_id", "team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    enterprise_id: str = Field(default="", max_length=64)
    team_id: str = Field(default="", max_length=64, index=True)
    user_id: str = Field(default="", max_length=64)
    data: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    installed_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UtcDateTime(), nullable=False)
    )


class ChatSeenEvent(SQLModel, table=True):
    """An inbound event id already acted on; rows older than a TTL are pruned."""

    __tablename__ = "chat_seen_events"

    platform: str = Field(max_length=16, primary_key=True)
    event_id: str = Field(max_length=128, primary_key=True)
    seen_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False, index=True))


class ChatOAuthState(SQLModel, table=True):
    """An OAuth ``state`` issued by one replica and consumed (once) by any."""

    __tablename__ = "chat_oauth_states"

    state: str = Field(max_length=128, primary_key=True)
    expires_at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False))
