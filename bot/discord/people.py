"""Who is talking in Discord: their Kairos member, role and time zone.

Discord tells no one's time zone. A person's zone is what they set with
``/timezone`` (``Member.timezone``); without one, the server's default
(``Workspace.default_timezone``, set by an admin with
``/timezone zone:… server:True``) applies. Server roles map to Kairos roles: a
person with the configured permission (Manage Server by default) or one of the
configured admin roles is a Kairos admin; Kairos promotes such a person when it
sees them, and never demotes anyone on its own (a role given in Kairos sticks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import discord

from core.enums import Platform, Role
from core.models import Member
from core.store import SqlStore


@dataclass(frozen=True, slots=True)
class Person:
    member: Member
    #: The zone the person set, else ``None`` (the server default applies).
    timezone: str | None
    server_timezone: str
    name: str


@dataclass(frozen=True, slots=True)
class RoleMap:
    """Which Discord members are Kairos admins."""

    permission: str = "manage_guild"
    admin_roles: frozenset[str] = frozenset()

    def is_admin(self, user: discord.abc.User | discord.Member) -> bool:
        if not isinstance(user, discord.Member):
            return False
        if getattr(user.guild_permissions, self.permission, False):
            return True
        return any(str(r.id) in self.admin_roles or r.name in self.admin_roles for r in user.roles)

    @classmethod
    def parse(cls, *, permission: str, roles: Iterable[str]) -> RoleMap:
        if permission not in discord.Permissions.VALID_FLAGS:
            from core.errors import InvalidInput

            raise InvalidInput(
                f"{permission!r} is not a Discord permission.",
                hint="Set KAIROS_DISCORD_ADMIN_PERMISSION to e.g. manage_guild or administrator.",
            )
        return cls(permission=permission, admin_roles=frozenset(r.strip() for r in roles if r))


class People:
    """Registers the people Kairos meets and reads their zone (no cache: a
    ``/timezone`` change applies to the very next message)."""

    def __init__(self, *, store: SqlStore, roles: RoleMap, default_timezone: str) -> None:
        self._store = store
        self._roles = roles
        self._default_tz = default_timezone

    async def get(self, workspace_ref: str, user: discord.abc.User | discord.Member) -> Person:
        workspace = await self._store.ensure_workspace(
            Platform.DISCORD, workspace_ref, default_timezone=self._default_tz
        )
        assert workspace.id is not None
        admin = self._roles.is_admin(user)
        name = getattr(user, "display_name", None) or user.name
        member = await self._store.ensure_member(
            workspace.id,
            str(user.id),
            display_name=name,
            role=Role.ADMIN if admin else Role.MEMBER,
        )
        if admin and member.role == Role.MEMBER:
            assert member.id is not None
            member = await self._store.update_member(member.id, role=Role.ADMIN)
        return Person(
            member=member,
            timezone=member.timezone,
            server_timezone=workspace.default_timezone,
            name=name,
        )
