"""Chat-platform state: installations, seen event ids, OAuth states.

Generic over platforms and free of any platform library: the Slack adapter
(``bot.slack.installation``) maps slack_sdk's records onto these calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from core.models import ConversationState
from core.models_chat import ChatInstallation, ChatOAuthState, ChatSeenEvent
from core.store.base import StoreBase


@dataclass(frozen=True, slots=True)
class Remembered:
    """One conversation memory to store (see ``core.services.conversation``)."""

    workspace_id: int
    place: str
    person: str
    kind: str
    expires_at: datetime
    task_id: int | None = None
    payload: dict[str, Any] | None = None


class ChatStateStore(StoreBase):
    """What chat adapters remember between requests and across replicas."""

    # --- installations ---------------------------------------------------------

    async def save_installation(
        self,
        *,
        platform: str,
        enterprise_id: str,
        team_id: str,
        user_id: str,
        data: dict[str, Any],
        installed_at: datetime,
    ) -> None:
        """Insert or replace the installation for these ids."""
        async with self._session() as session:
            stmt = self._insert(ChatInstallation).values(
                platform=platform,
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                data=data,
                installed_at=installed_at,
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["platform", "enterprise_id", "team_id", "user_id"],
                set_={"data": stmt.excluded.data, "installed_at": stmt.excluded.installed_at},
            )
            await session.execute(stmt)

    async def find_installation(
        self, *, platform: str, enterprise_id: str, team_id: str, user_id: str
    ) -> dict[str, Any] | None:
        """The stored record for exactly these ids, or ``None``."""
        async with self._session() as session:
            found = await session.scalar(
                sa.select(ChatInstallation).where(
                    col(ChatInstallation.platform) == platform,
                    col(ChatInstallation.enterprise_id) == enterprise_id,
                    col(ChatInstallation.team_id) == team_id,
                    col(ChatInstallation.user_id) == user_id,
                )
            )
            return dict(found.data) if found is not None else None

    async def delete_installations(
        self, *, platform: str, enterprise_id: str, team_id: str, user_id: str | None = None
    ) -> int:
        """Forget a workspace's installations (all, or one user's); returns rows removed."""
        async with self._session() as session:
            stmt = sa.delete(ChatInstallation).where(
                col(ChatInstallation.platform) == platform,
                col(ChatInstallation.enterprise_id) == enterprise_id,
                col(ChatInstallation.team_id) == team_id,
            )
            if user_id is not None:
                stmt = stmt.where(col(ChatInstallation.user_id) == user_id)
            result = await session.execute(stmt)
            return int(getattr(result, "rowcount", 0) or 0)

    # --- inbound event dedupe --------------------------------------------------

    async def first_sighting(
        self, *, platform: str, event_id: str, now: datetime, keep: timedelta
    ) -> bool:
        """Record ``event_id``; True only the first time it is seen (within ``keep``).

        Concurrent replicas race on the primary key: exactly one insert wins.
        Rows older than ``keep`` are pruned on the way.
        """
        async with self._session() as session:
            await session.execute(
                sa.delete(ChatSeenEvent).where(col(ChatSeenEvent.seen_at) < now - keep)
            )
            stmt = (
                self._insert(ChatSeenEvent)
                .values(platform=platform, event_id=event_id, seen_at=now)
                .on_conflict_do_nothing(index_elements=["platform", "event_id"])
            )
            result = await session.execute(stmt)
            return bool(getattr(result, "rowcount", 0))

    # --- OAuth state -----------------------------------------------------------

    async def issue_oauth_state(self, state: str, *, expires_at: datetime) -> None:
        async with self._session() as session:
            session.add(ChatOAuthState(state=state, expires_at=expires_at))

    async def consume_oauth_state(self, state: str, *, now: datetime) -> bool:
        """True if ``state`` was issued and not expired; it can be used only once."""
        async with self._session() as session:
            result = await session.execute(
                sa.delete(ChatOAuthState).where(
                    col(ChatOAuthState.state) == state, col(ChatOAuthState.expires_at) >= now
                )
            )
            return bool(getattr(result, "rowcount", 0))

    # --- conversation memory ---------------------------------------------------

    async def remember_state(
        self,
        *,
        workspace_id: int,
        place: str,
        person: str,
        kind: str,
        expires_at: datetime,
        task_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Insert or replace what is remembered of ``kind`` for this person here."""
        await self.remember_states(
            [Remembered(workspace_id, place, person, kind, expires_at, task_id, payload)]
        )

    async def remember_states(self, memories: Sequence[Remembered]) -> None:
        """``remember_state`` for many memories in one statement (the last of a key wins)."""
        latest = {(m.workspace_id, m.place, m.person, m.kind): m for m in memories}
        if not latest:
            return
        async with self._session() as session:
            stmt = self._insert(ConversationState).values([asdict(m) for m in latest.values()])
            stmt = stmt.on_conflict_do_update(
                index_elements=["workspace_id", "place", "person", "kind"],
                set_={
                    "task_id": stmt.excluded.task_id,
                    "payload": stmt.excluded.payload,
                    "expires_at": stmt.excluded.expires_at,
                },
            )
            await session.execute(stmt)

    async def recall_state(
        self, *, workspace_id: int, place: str, person: str, kind: str, now: datetime
    ) -> ConversationState | None:
        """The unexpired memory of ``kind`` for this person here, or ``None``."""
        async with self._session() as session:
            found: ConversationState | None = await session.scalar(
                sa.select(ConversationState).where(
                    col(ConversationState.workspace_id) == workspace_id,
                    col(ConversationState.place) == place,
                    col(ConversationState.person) == person,
                    col(ConversationState.kind) == kind,
                    col(ConversationState.expires_at) > now,
                )
            )
            return found

    async def forget_state(
        self, *, workspace_id: int, place: str, person: str, kind: str, now: datetime
    ) -> None:
        """Forget one memory, and prune everything expired on the way."""
        async with self._session() as session:
            await session.execute(
                sa.delete(ConversationState).where(
                    sa.or_(
                        col(ConversationState.expires_at) <= now,
                        sa.and_(
                            col(ConversationState.workspace_id) == workspace_id,
                            col(ConversationState.place) == place,
                            col(ConversationState.person) == person,
                            col(ConversationState.kind) == kind,
                        ),
                    )
                )
            )
