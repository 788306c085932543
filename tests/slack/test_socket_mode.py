"""Socket Mode: with an app-level token Kairos connects out over a WebSocket
(``apps.connections.open`` on the configured API URL) and acks each envelope."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import SecretStr
from waiting import eventually

from bot.settings import Settings

from .recording import RecordingConversation

PAYLOADS = Path(__file__).parent / "payloads"


async def test_socket_mode_receives_a_command_and_acks_it(
    fake, make_surface, slack_settings
) -> None:
    settings = Settings(
        **{**slack_settings.model_dump(), "slack_app_token": SecretStr("xapp-1-A0001-test")}
    )
    conversation = RecordingConversation()
    surface, _ = await make_surface(conversation, settings=settings)
    assert surface.socket_mode
    await surface.start()
    try:
        await eventually(lambda: fake.sockets)
        opened = fake.of("apps.connections.open")
        assert opened and opened[0].token == "xapp-1-A0001-test"
        command = json.loads((PAYLOADS / "slash_command.json").read_text())
        command["response_url"] = fake.response_url("socket")
        await fake.push(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": command,
            }
        )
        ack = await eventually(
            lambda: [a for a in fake.socket_acks if a.get("envelope_id") == "env-1"]
        )
        assert ack
        inbound = (await eventually(lambda: conversation.handled))[0]
        assert inbound.text == "remind me to send the <report> tomorrow at 9am"
        assert inbound.user_timezone == "Europe/Berlin"
    finally:
        await surface.stop()
