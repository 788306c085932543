"""The workflow drawing reaches Slack as a PNG file (files_upload_v2 against the fake API)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image
from waiting import eventually

from bot.app import Kairos
from bot.settings import Settings
from core.enums import Platform
from core.intents.rules import RuleParser
from core.messages import Inbound

from .test_conversation_e2e import Chat


@pytest.fixture
async def chat(
    fake: Any, make_surface: Any, slack_settings: Settings, clock: Any
) -> AsyncIterator[tuple[Chat, Kairos, Any]]:
    app = await Kairos.open(slack_settings, clock=clock)
    surface, kairos = await make_surface(
        app.conversation, store=app.store, tasks=app.tasks, parser=RuleParser(), runs=app.runs
    )
    app.add_chat(Platform.SLACK, surface.adapter)
    await app.start()
    try:
        yield Chat(kairos, fake, app.store, clock), app, surface
    finally:
        await app.close()


async def test_show_workflow_uploads_the_png_into_the_thread(
    chat: tuple[Chat, Kairos, Any], fake: Any
) -> None:
    talk, app, surface = chat
    await talk.command("start a release workflow for v2.3")
    [reply] = await app.conversation.handle(_inbound("show the release workflow"))
    assert reply.attachment is not None and reply.attachment.data is not None
    await surface.adapter.send(replace(reply, channel_ref="C0001", ephemeral=False))
    upload = (await eventually(lambda: fake.of("files.completeUploadExternal")))[0]
    assert upload.body["channel_id"] == "C0001"
    [content] = fake.uploads.values()
    picture = Image.open(io.BytesIO(content))
    assert picture.format == "PNG" and picture.width > 300
    posted = fake.of("chat.postMessage")[-1]
    assert posted.body["text"].startswith("Workflow 'release v2.3'")


def _inbound(text: str) -> Inbound:
    return Inbound(
        platform=Platform.SLACK,
        workspace_ref="T0001",
        user_ref="U0001",
        text=text,
        channel_ref="C0001",
        is_direct=False,
    )
