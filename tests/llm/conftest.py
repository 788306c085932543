"""Claude harness: the real ``anthropic``/``instructor`` clients against a fake Messages API.

``fake`` is the local fake (``tests/llm/fake_anthropic.py``); ``claude`` a
``ClaudeClient`` pointed at it through the base URL, recording usage in the real
store; ``make_claude(**config)`` builds one with other settings (budget, timeout).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from rich.console import Console
from slack.fake_slack import FakeSlack
from slack.fake_slack import serving as serving_slack

from bot.app import Kairos
from bot.console import ConsoleChat, to_inbound
from bot.settings import Settings
from core.clock import ManualClock
from core.enums import Platform
from core.messages import Reply
from core.store import SqlStore
from integrations.llm.client import ClaudeClient, ClaudeConfig

from .fake_anthropic import FakeAnthropic, serving

KEY = "sk-ant-test-not-a-real-key"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    async with serving() as server:
        yield server


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API (``tests/slack/fake_slack.py``) for Claude features on Slack."""
    async with serving_slack(FakeSlack()) as server:
        yield server


@pytest.fixture
async def make_claude(
    fake: FakeAnthropic, store: SqlStore, clock: ManualClock
) -> AsyncIterator[Callable[..., ClaudeClient]]:
    made: list[ClaudeClient] = []

    def build(**config: Any) -> ClaudeClient:
        settings: dict[str, Any] = {
            "api_key": SecretStr(KEY),
            "base_url": fake.base_url,  # type: ignore[attr-defined]
            "model": "claude-test",
            "timeout_seconds": 5.0,
            "max_retries": 2,
        }
        client = ClaudeClient(
            config=ClaudeConfig(**{**settings, **config}), ledger=store, clock=clock
        )
        made.append(client)
        return client

    yield build
    for client in made:
        await client.close()


@pytest.fixture
def claude(make_claude: Callable[..., ClaudeClient]) -> ClaudeClient:
    return make_claude()


ZONE = "Europe/Berlin"


@pytest.fixture
async def open_kairos(
    database_url: str, clock: ManualClock, fake: FakeAnthropic, tmp_path: Any
) -> AsyncIterator[Callable[..., Any]]:
    opened: list[Kairos] = []

    async def open_(**changes: Any) -> Kairos:
        settings = Settings(
            database_url=database_url,
            default_timezone=ZONE,
            data_dir=tmp_path,
            anthropic_base_url=fake.base_url,  # type: ignore[attr-defined]
            anthropic_model="claude-test",
            _env_file=None,  # type: ignore[call-arg]
            **changes,
        )
        kairos = await Kairos.open(settings, clock=clock)
        console = ConsoleChat(
            conversation=kairos.conversation,
            user="ana",
            console=Console(file=io.StringIO(), width=200),
            timezone=ZONE,
        )
        kairos.add_chat(Platform.CONSOLE, console)
        await kairos.start()
        opened.append(kairos)
        return kairos

    yield open_
    for kairos in opened:
        await kairos.close()


async def say(kairos: Kairos, text: str) -> Reply:
    (reply,) = await kairos.conversation.handle(to_inbound(text, user="ana", timezone=ZONE))
    return reply
