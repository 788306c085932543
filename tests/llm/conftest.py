"""Claude harness: the real ``anthropic``/``instructor`` clients against a fake Messages API.

``fake`` is the local fake (``tests/llm/fake_anthropic.py``); ``claude`` a
``ClaudeClient`` pointed at it through the base URL, recording usage in the real
store; ``make_claude(**config)`` builds one with other settings (budget, timeout).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr

from core.clock import ManualClock
from core.store import SqlStore
from integrations.llm.client import ClaudeClient, ClaudeConfig

from .fake_anthropic import FakeAnthropic

KEY = "sk-ant-test-not-a-real-key"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAnthropic]:
    server = FakeAnthropic()
    server.base_url = await server.start()  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        await server.stop()


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
