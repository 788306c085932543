"""slack_sdk's installation and OAuth-state stores over Kairos's database.

bolt's ``AsyncOAuthSettings`` saves each workspace's installation here when the
OAuth flow completes, and its authorize step reads the bot token back for every
request from that workspace. Rows live in ``chat_installations`` /
``chat_oauth_states`` (``core.store.chat``), so every replica sees the same ones.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from core.ports import Clock
from core.store.chat import ChatStateStore

PLATFORM = "slack"
_LATEST = ""  # user_id of a workspace's latest installation (the bot's row)

log = logging.getLogger(__name__)


def _to_row(installation: Installation) -> dict[str, Any]:
    """JSON-safe record: slack_sdk gives datetimes, the JSON column wants numbers."""
    data = installation.to_dict_for_copying()
    return {k: v.timestamp() if isinstance(v, datetime) else v for k, v in data.items()}


def _from_row(data: dict[str, Any]) -> Installation:
    return Installation(**data)


class SqlInstallationStore(AsyncInstallationStore):
    """Installations per Slack workspace (team) and enterprise, in the database."""

    def __init__(self, store: ChatStateStore) -> None:
        self._store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        row = _to_row(installation)
        when = datetime.fromtimestamp(installation.installed_at, tz=UTC)
        ids = {
            "platform": PLATFORM,
            "enterprise_id": installation.enterprise_id or "",
            "team_id": installation.team_id or "",
        }
        # The workspace's latest row carries the bot token; the installer's own
        # row keeps their user token (if any) for user-scoped calls.
        await self._store.save_installation(**ids, user_id=_LATEST, data=row, installed_at=when)
        if installation.user_id:
            await self._store.save_installation(
                **ids, user_id=installation.user_id, data=row, installed_at=when
            )
        # Never log the record itself: it holds tokens.
        log.info("Slack installation saved for team %s", installation.team_id)

    async def async_save_bot(self, bot: Bot) -> None:
        installation = Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            team_name=bot.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=bot.bot_token_expires_at,
            is_enterprise_install=bot.is_enterprise_install,
            installed_at=bot.installed_at,
            user_id="",
        )
        await self.async_save(installation)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        data = await self._store.find_installation(
            platform=PLATFORM,
            enterprise_id=enterprise_id or "",
            # An org-wide install is stored without a team; any team of the org uses it.
            team_id="" if is_enterprise_install else team_id or "",
            user_id=user_id or _LATEST,
        )
        if data is None:
            return None
        installation = _from_row(data)
        if user_id:
            # The bot token always comes from the latest workspace row, which a
            # later install by someone else may have refreshed.
            latest = await self.async_find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
            if latest is not None:
                installation.bot_token = latest.bot_token
                installation.bot_id = latest.bot_id
                installation.bot_user_id = latest.bot_user_id
                installation.bot_scopes = latest.bot_scopes
        return installation

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if installation is None or not installation.bot_token:
            return None
        return installation.to_bot()

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self._store.delete_installations(
            platform=PLATFORM,
            enterprise_id=enterprise_id or "",
            team_id=team_id or "",
            user_id=user_id or _LATEST,
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._store.delete_installations(
            platform=PLATFORM, enterprise_id=enterprise_id or "", team_id=team_id or ""
        )


class SqlOAuthStateStore(AsyncOAuthStateStore):
    """One-time OAuth ``state`` values, valid for ``expiration_seconds``."""

    def __init__(
        self, store: ChatStateStore, *, clock: Clock, expiration_seconds: int = 600
    ) -> None:
        self._store = store
        self._clock = clock
        self._ttl = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await self._store.issue_oauth_state(state, expires_at=self._clock.now() + self._ttl)
        return state

    async def async_consume(self, state: str) -> bool:
        return await self._store.consume_oauth_state(state, now=self._clock.now())
