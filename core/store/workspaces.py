"""Workspaces and their members."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import col

from core.enums import Platform, Role
from core.errors import InvalidInput, NotFound
from core.mentions import bare
from core.models import Member, Workspace, utcnow
from core.store.base import StoreBase


class WorkspaceStore(StoreBase):
    """Workspaces (one team on one platform) and the members known in each."""

    # --- workspaces ------------------------------------------------------------

    async def ensure_workspace(
        self,
        platform: Platform,
        external_id: str,
        *,
        name: str = "",
        default_timezone: str = "UTC",
    ) -> Workspace:
        """The workspace for ``(platform, external_id)``, created on first sight.

        ``name`` and ``default_timezone`` only apply when it is created; use
        ``update_workspace`` to change an existing one. Safe under concurrency.
        """
        async with self._session() as session:
            stmt = (
                self._insert(Workspace)
                .values(
                    platform=str(platform),
                    external_id=external_id,
                    name=name,
                    default_timezone=default_timezone,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["platform", "external_id"])
            )
            await session.execute(stmt)
            found = await session.scalar(
                sa.select(Workspace).where(
                    col(Workspace.platform) == str(platform),
                    col(Workspace.external_id) == external_id,
                )
            )
            assert found is not None
            return found

    async def find_workspace(self, platform: Platform, external_id: str) -> Workspace | None:
        async with self._session() as session:
            found: Workspace | None = await session.scalar(
                sa.select(Workspace).where(
                    col(Workspace.platform) == str(platform),
                    col(Workspace.external_id) == external_id,
                )
            )
            return found

    async def get_workspace(self, workspace_id: int) -> Workspace:
        """The workspace with this id, or ``NotFound``."""
        async with self._session() as session:
            found = await session.get(Workspace, workspace_id)
            if found is None:
                raise NotFound(f"Workspace #{workspace_id} does not exist.")
            return found

    async def lock_workspace(self, workspace_id: int, *, purpose: int) -> None:
        """Serialise, until the surrounding transaction ends, every transaction that
        locks this workspace for ``purpose`` (call it first in ``transaction()``).

        PostgreSQL: a transaction-scoped advisory lock on (purpose, workspace). SQLite
        serialises writers: a first write takes the database's write lock at once
        (what ``BEGIN IMMEDIATE`` does), so what is read after it cannot go stale.
        """
        async with self._session() as session:
            if self.dialect == "postgresql":
                await session.execute(
                    sa.select(sa.func.pg_advisory_xact_lock(purpose, workspace_id))
                )
            else:
                await session.execute(
                    sa.update(Workspace)
                    .where(col(Workspace.id) == workspace_id)
                    .values(id=col(Workspace.id))
                )

    async def update_workspace(
        self,
        workspace_id: int,
        *,
        name: str | None = None,
        default_timezone: str | None = None,
    ) -> Workspace:
        async with self._session() as session:
            found = await session.get(Workspace, workspace_id)
            if found is None:
                raise NotFound(f"Workspace #{workspace_id} does not exist.")
            if name is not None:
                found.name = name
            if default_timezone is not None:
                found.default_timezone = default_timezone
            await session.flush()
            return found

    # --- members ---------------------------------------------------------------

    async def ensure_member(
        self,
        workspace_id: int,
        platform_user_id: str,
        *,
        display_name: str = "",
        timezone: str | None = None,
        role: Role = Role.MEMBER,
    ) -> Member:
        """The member with this platform user id, registered on first sight.

        A non-empty ``display_name`` or ``timezone`` refreshes the stored profile
        (people rename themselves and travel); ``role`` applies only on creation,
        so seeing someone again can never change their permissions.
        """
        async with self._session() as session:
            stmt = (
                self._insert(Member)
                .values(
                    workspace_id=workspace_id,
                    platform_user_id=platform_user_id,
                    display_name=display_name,
                    timezone=timezone,
                    role=str(role),
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["workspace_id", "platform_user_id"])
            )
            await session.execute(stmt)
            member = await session.scalar(
                sa.select(Member).where(
                    col(Member.workspace_id) == workspace_id,
                    col(Member.platform_user_id) == platform_user_id,
                )
            )
            assert member is not None
            changed = False
            if display_name and member.display_name != display_name:
                member.display_name = display_name
                changed = True
            if timezone and member.timezone != timezone:
                member.timezone = timezone
                changed = True
            if changed:
                await session.flush()
            return member

    async def get_member(self, member_id: int, *, workspace_id: int | None = None) -> Member:
        """The member with this id (in ``workspace_id`` when given), or ``NotFound``."""
        async with self._session() as session:
            member = await session.get(Member, member_id)
            if member is None or (workspace_id is not None and member.workspace_id != workspace_id):
                raise NotFound(f"Member #{member_id} does not exist in this workspace.")
            return member

    async def find_member(self, workspace_id: int, ref: str) -> Member | None:
        """A member by platform user id, or else by display name (case-insensitive).

        ``ref`` may be written ``alice``, ``@alice`` or ``@U024BE7LH`` (the neutral
        mention form of ``core.mentions``; adapters translate platform syntax).
        Several members sharing that display name is an ``InvalidInput``: the
        caller must ask for a mention instead of guessing.
        """
        ref = bare(ref)
        if not ref:
            return None
        async with self._session() as session:
            by_id = await session.scalar(
                sa.select(Member).where(
                    col(Member.workspace_id) == workspace_id,
                    col(Member.platform_user_id) == ref,
                )
            )
            if by_id is not None:
                return by_id
            by_name = (
                await session.scalars(
                    sa.select(Member)
                    .where(
                        col(Member.workspace_id) == workspace_id,
                        sa.func.lower(col(Member.display_name)) == ref.lower(),
                    )
                    .order_by(col(Member.id))
                )
            ).all()
            if len(by_name) > 1:
                raise InvalidInput(
                    f"Several people are called {ref!r}.",
                    hint="Mention the person (@name) so Kairos knows who you mean.",
                )
            return by_name[0] if by_name else None

    async def list_members(self, workspace_id: int) -> Sequence[Member]:
        async with self._session() as session:
            return (
                await session.scalars(
                    sa.select(Member)
                    .where(col(Member.workspace_id) == workspace_id)
                    .order_by(col(Member.id))
                )
            ).all()

    async def members_by_ids(
        self, workspace_id: int, member_ids: Iterable[int]
    ) -> Sequence[Member]:
        """The members of this workspace among ``member_ids`` (unknown ids are left out)."""
        wanted = set(member_ids)
        if not wanted:
            return []
        async with self._session() as session:
            return (
                await session.scalars(
                    sa.select(Member)
                    .where(col(Member.workspace_id) == workspace_id, col(Member.id).in_(wanted))
                    .order_by(col(Member.id))
                )
            ).all()

    async def update_member(
        self,
        member_id: int,
        *,
        display_name: str | None = None,
        timezone: str | None = None,
        role: Role | None = None,
    ) -> Member:
        """Change a member's profile or role (the caller checks permissions)."""
        async with self._session() as session:
            member = await session.get(Member, member_id)
            if member is None:
                raise NotFound(f"Member #{member_id} does not exist.")
            if display_name is not None:
                member.display_name = display_name
            if timezone is not None:
                member.timezone = timezone
            if role is not None:
                member.role = role
            await session.flush()
            return member
