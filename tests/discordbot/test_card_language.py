"""A task set up in German gets a Discord card with German field names and buttons
(Claude through the fake Anthropic API, the catalog once), its title as written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from llm.conftest import KEY
from llm.fake_anthropic import FakeAnthropic, serving
from llm.test_card_language import TITLE, deutsch, task
from llm.test_reply_language import translations
from pydantic import SecretStr
from waiting import eventually

from bot.settings import Settings

from .fake_discord import CHANNEL_ID, FakeDiscord

CARD = "620000000000000001"


@pytest.fixture
async def claude() -> AsyncIterator[FakeAnthropic]:
    async with serving() as server:
        yield server


async def card_for(fake: FakeDiscord, start_kairos: Any, settings: Settings) -> dict[str, Any]:
    """The edit Kairos sends to a German task's card."""
    _, surface = await start_kairos(settings=settings)
    await surface.adapter.refresh_card(task(channel_ref=CHANNEL_ID, thread_ref=CARD), tz="UTC")
    edits = await eventually(lambda: fake.of("PATCH", rf"^/channels/{CHANNEL_ID}/messages/{CARD}$"))
    return edits[-1].body


def labels(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    fields = [f["name"] for f in body["embeds"][0]["fields"]]
    buttons = [b["label"] for row in body["components"] for b in row["components"]]
    return fields, buttons


async def test_a_german_tasks_discord_card_has_german_labels(
    fake: FakeDiscord, claude: FakeAnthropic, discord_settings: Settings, start_kairos: Any
) -> None:
    claude.responder = deutsch
    with_key = discord_settings.model_copy(
        update={
            "anthropic_api_key": SecretStr(KEY),
            "anthropic_base_url": claude.base_url,  # type: ignore[attr-defined]
            "anthropic_model": "claude-test",
        }
    )
    body = await card_for(fake, start_kairos, with_key)
    fields, buttons = labels(body)
    assert fields == ["Fällig", "Wiederholt", "Zuständig", "Priorität"]
    assert buttons[0] == "Erledigt" and "Jetzt ausführen" in buttons
    assert body["embeds"][0]["title"] == f"#3 {TITLE}" and body["content"] == f"#3 {TITLE}"
    assert len(translations(claude)) == 2  # the catalog, the card's phrases


async def test_without_a_key_the_discord_card_is_english(
    fake: FakeDiscord, claude: FakeAnthropic, discord_settings: Settings, start_kairos: Any
) -> None:
    fields, buttons = labels(await card_for(fake, start_kairos, discord_settings))
    assert fields == ["Due", "Repeats", "Assignees", "Priority"]
    assert buttons[0] == "Done" and "Run now" in buttons
    assert claude.requests == []
