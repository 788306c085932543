"""``ChatStateStore`` and the slack_sdk stores over it, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.slack.installation import SqlInstallationStore, SqlOAuthStateStore
from core.clock import ManualClock
from core.store.chat import ChatStateStore

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


async def test_an_event_id_is_first_seen_exactly_once_even_when_racing(database) -> None:
    store = ChatStateStore(database)
    keep = timedelta(hours=1)
    results = await asyncio.gather(
        *(
            store.first_sighting(platform="slack", event_id="Ev1", now=T0, keep=keep)
            for _ in range(8)
        )
    )
    assert sorted(results) == [False] * 7 + [True]
    # Another platform's id space is separate; old ids are pruned after ``keep``.
    assert await store.first_sighting(platform="discord", event_id="Ev1", now=T0, keep=keep)
    later = T0 + timedelta(hours=2)
    assert await store.first_sighting(platform="slack", event_id="Ev1", now=later, keep=keep)


async def test_installations_round_trip_per_team_and_are_deleted_per_team(database) -> None:
    installs = SqlInstallationStore(ChatStateStore(database))
    for team in ("T1", "T2"):
        await installs.async_save(
            Installation(
                app_id="A1",
                team_id=team,
                team_name=f"Team {team}",
                bot_token=f"xoxb-{team}",
                bot_id="B1",
                bot_user_id="UBOT",
                bot_scopes=["chat:write", "commands"],
                user_id="U1",
                installed_at=T0.timestamp(),
            )
        )
    bot = await installs.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-T1"
    assert bot.bot_scopes == ["chat:write", "commands"]
    mine = await installs.async_find_installation(enterprise_id=None, team_id="T2", user_id="U1")
    assert mine is not None and mine.bot_token == "xoxb-T2" and mine.user_id == "U1"
    # Reinstalling replaces the token.
    await installs.async_save(
        Installation(
            app_id="A1", team_id="T1", bot_token="xoxb-T1-new", bot_user_id="UBOT", user_id="U1"
        )
    )
    bot = await installs.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-T1-new"
    await installs.async_delete_all(enterprise_id=None, team_id="T1")
    assert await installs.async_find_bot(enterprise_id=None, team_id="T1") is None
    assert await installs.async_find_bot(enterprise_id=None, team_id="T2") is not None


async def test_oauth_state_is_single_use_and_expires(database) -> None:
    clock = ManualClock(T0)
    states = SqlOAuthStateStore(ChatStateStore(database), clock=clock, expiration_seconds=60)
    first, second = await states.async_issue(), await states.async_issue()
    assert first != second
    assert await states.async_consume(first) is True
    assert await states.async_consume(first) is False
    clock.advance(61)
    assert await states.async_consume(second) is False
    assert await states.async_consume("never-issued") is False
