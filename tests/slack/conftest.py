"""Slack end-to-end harness: the real bolt app on Kairos's ASGI app, a fake Web API.

``fake`` is the local fake Slack Web API (``tests/slack/fake_slack.py``).
``slack_settings`` points ``Settings.slack_api_url`` at it. ``make_surface``
builds the real ``SlackSurface`` (``build_slack``) over the real store;
``kairos`` is an ``httpx.AsyncClient`` on Kairos's web app with the surface's
routes, and ``post_signed`` sends a request signed like Slack signs them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.settings import Settings
from bot.slack import SlackSurface, build_slack
from bot.web import build_web_app
from core.clock import ManualClock
from core.ports import Conversation
from core.store import SqlStore

from .fake_slack import FakeSlack, serving
from .signing import SECRET, event_request, form_request, interactive_request

BOT_TOKEN = "xoxb-test-T0001"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with serving(
        FakeSlack(timezones={"U0001": "Europe/Berlin", "U0002": "America/New_York"})
    ) as server:
        yield server


@pytest.fixture
def slack_settings(fake: FakeSlack, tmp_path: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        default_timezone="UTC",
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SECRET),
        slack_api_url=fake.api_url,  # type: ignore[attr-defined]
    )


class Kairos:
    """An HTTP client for Kairos's web app that signs what it sends, like Slack."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def _post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post("/slack/events", content=body, headers=headers)

    async def event(
        self, payload: dict[str, Any], *, retry: int | None = None, **kw: Any
    ) -> httpx.Response:
        body, headers = event_request(payload, **kw)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self._post(body, headers)

    async def command(self, fields: dict[str, str], **kw: Any) -> httpx.Response:
        return await self._post(*form_request(fields, **kw))

    async def interact(self, payload: dict[str, Any], **kw: Any) -> httpx.Response:
        return await self._post(*interactive_request(payload, **kw))


SurfaceFactory = Callable[..., Awaitable[tuple[SlackSurface, Kairos]]]


@pytest.fixture
async def make_surface(
    slack_settings: Settings, sqlite_database: Any, clock: ManualClock
) -> AsyncIterator[SurfaceFactory]:
    clients: list[httpx.AsyncClient] = []

    async def make(
        conversation: Conversation, *, settings: Settings | None = None, **kw: Any
    ) -> tuple[SlackSurface, Kairos]:
        store = kw.pop("store", None) or SqlStore(sqlite_database)
        surface = build_slack(
            settings=settings or slack_settings,
            conversation=conversation,
            store=store,
            clock=clock,
            **kw,
        )
        app = build_web_app(surface.routes())
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kairos.test"
        )
        clients.append(client)
        return surface, Kairos(client)

    yield make
    for client in clients:
        await client.aclose()
