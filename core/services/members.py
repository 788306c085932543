"""Members and roles: who may do what, and personal settings.

The permission matrix (also in docs/conversation.md):

| action                                  | owner | admin | member | viewer |
|-----------------------------------------|-------|-------|--------|--------|
| see tasks they may see, search, history |  yes  |  yes  |  yes   |  yes   |
| create, change, complete, delete tasks  |  yes  |  yes  |  yes   |  no    |
| run now, snooze, pause, resume          |  yes  |  yes  |  yes   |  no    |
| set their own timezone                  |  yes  |  yes  |  yes   |  yes   |
| change someone's role                   |  yes  |  yes* |  no    |  no    |

(*) an admin may not make or unmake owners.
"""

from __future__ import annotations

from core.enums import Role
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.models import Member
from core.ports import Clock
from core.schedule import check_timezone
from core.services.audit import record_action
from core.store import SqlStore

#: Roles that may change roles.
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})


def may_change_tasks(member: Member) -> bool:
    return Role(member.role) is not Role.VIEWER


class MemberService:
    """Roles and personal settings, with permission checks and an audit event."""

    def __init__(self, *, store: SqlStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def set_timezone(self, actor: Member, zone: str) -> Member:
        """Set the actor's own zone (anyone may)."""
        try:
            zone = check_timezone(zone)
        except (ValueError, InvalidInput) as exc:
            raise InvalidInput(
                f"'{zone}' is not a time zone I know.",
                hint="Use an IANA name such as Europe/Berlin or America/New_York.",
            ) from exc
        assert actor.id is not None
        updated = await self._store.update_member(actor.id, timezone=zone)
        await record_action(
            self._store,
            self._clock,
            actor,
            "member.timezone",
            details={"member": actor.platform_user_id, "to": zone},
        )
        return updated

    async def set_role(self, actor: Member, who: str, role: Role) -> Member:
        """Give ``who`` a role; only owners and admins may, and only owners touch owners."""
        actor_role = Role(actor.role)
        if actor_role not in MANAGERS:
            raise PermissionDenied(
                "Only workspace owners and admins can change roles.",
                hint="Ask an admin to do it.",
            )
        target = await self._store.find_member(actor.workspace_id, who)
        if target is None:
            raise NotFound(
                f"I don't know anyone called '{who}' here yet.",
                hint="They need to have talked to me once.",
            )
        if actor_role is not Role.OWNER and Role.OWNER in (role, Role(target.role)):
            raise PermissionDenied(
                "Only an owner can make or unmake owners.", hint="Ask a workspace owner."
            )
        assert target.id is not None
        before = Role(target.role)
        updated = await self._store.update_member(target.id, role=role)
        await record_action(
            self._store,
            self._clock,
            actor,
            "member.role",
            details={"member": target.platform_user_id, "from": str(before), "to": str(role)},
        )
        return updated
