"""Who is talking: each Slack user's name and time zone, cached with a TTL.

The time zone comes from the Slack profile (``users.info`` → ``user.tz``) and
becomes ``Inbound.user_timezone``. On first contact (and on every refresh) the
person is registered as a member of their workspace, so the store knows them
before the conversation layer needs them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.enums import Platform, Role
from core.ports import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    timezone: str | None
    #: A workspace owner or admin in Slack: a Kairos admin when first registered.
    admin: bool = False


class MemberRegistry(Protocol):
    """The two store calls registration needs (``SqlStore`` has them)."""

    async def ensure_workspace(self, platform: Platform, external_id: str, **kw: Any) -> Any: ...

    async def ensure_member(self, workspace_id: int, platform_user_id: str, **kw: Any) -> Any: ...


class Profiles:
    """``users.info`` results per (team, user), kept for ``ttl``.

    Bounded: at most ``max_entries`` people are cached; the oldest go first. A
    failed lookup is cached briefly too, so a broken profile cannot cost one
    API call per message.
    """

    def __init__(
        self,
        *,
        registry: MemberRegistry | None,
        clock: Clock,
        ttl: timedelta = timedelta(hours=6),
        max_entries: int = 10_000,
        default_timezone: str = "UTC",
    ) -> None:
        self._registry = registry
        self._default_tz = default_timezone
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._cache: dict[tuple[str, str], tuple[datetime, Profile]] = {}

    def forget(self, team_id: str, user_id: str) -> None:
        """Drop a cached profile (e.g. on a ``user_change`` event)."""
        self._cache.pop((team_id, user_id), None)

    async def get(self, client: AsyncWebClient, *, team_id: str, user_id: str) -> Profile:
        now = self._clock.now()
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        profile, ok = await self._lookup(client, user_id)
        if len(self._cache) >= self._max:
            del self._cache[next(iter(self._cache))]
        expiry = now + (self._ttl if ok else min(self._ttl, timedelta(minutes=5)))
        self._cache[key] = (expiry, profile)
        if ok:
            await self._register(team_id, user_id, profile)
        return profile

    async def _lookup(self, client: AsyncWebClient, user_id: str) -> tuple[Profile, bool]:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return Profile(name="", timezone=None), False
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("real_name") or user.get("name") or ""
        admin = bool(user.get("is_owner") or user.get("is_admin") or user.get("is_primary_owner"))
        return Profile(name=str(name), timezone=user.get("tz") or None, admin=admin), True

    async def _register(self, team_id: str, user_id: str, profile: Profile) -> None:
        if self._registry is None:
            return
        workspace = await self._registry.ensure_workspace(
            Platform.SLACK, team_id, default_timezone=self._default_tz
        )
        # The role applies on first registration only: a role changed in Kairos sticks.
        await self._registry.ensure_member(
            int(workspace.id),
            user_id,
            display_name=profile.name,
            timezone=profile.timezone,
            role=Role.ADMIN if profile.admin else Role.MEMBER,
        )
