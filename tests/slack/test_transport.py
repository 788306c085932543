"""Slack's rules, over real HTTP into the real bolt app: signatures, acks, retries, 429s."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from waiting import eventually

from core.enums import Platform
from core.messages import Reply, ReplyKind

from .conftest import BOT_TOKEN
from .recording import RecordingConversation
from .signing import event_request

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


BARRIER_TEXT = "barrier: this one is handled"


def barrier() -> dict[str, Any]:
    """A genuine DM sent last: once it is handled, anything sent before it was too."""
    payload = load("dm_message.json")
    payload["event_id"] = "EvBarrier"
    payload["event"] = payload["event"] | {"text": BARRIER_TEXT, "ts": "1772443999.000100"}
    return payload


async def test_bad_or_stale_signature_is_refused_and_nothing_happens(fake, make_surface) -> None:
    conversation = RecordingConversation()
    _, kairos = await make_surface(conversation)
    payload = load("dm_message.json")
    forged = await kairos.event(payload, secret="not-the-secret")
    stale = await kairos.event(payload, at=time.time() - 600)
    body, headers = event_request(payload)
    unsigned = await kairos.http.post(
        "/slack/events", content=body, headers={"Content-Type": "application/json"}
    )
    tampered = await kairos.http.post(
        "/slack/events", content=body.replace("plants", "cacti"), headers=headers
    )
    assert [r.status_code for r in (forged, stale, unsigned, tampered)] == [401] * 4
    # A genuine message sent after them is handled; none of the refused ones were.
    await kairos.event(barrier())
    await eventually(lambda: conversation.handled)
    assert [i.text for i in conversation.handled] == [BARRIER_TEXT]
    assert fake.of("chat.postMessage") == [] and fake.of("chat.postEphemeral") == []


async def test_a_retried_event_is_acted_on_once(fake, make_surface) -> None:
    conversation = RecordingConversation()
    _, kairos = await make_surface(conversation)
    payload = load("dm_message.json")
    first = await kairos.event(payload)
    again = await kairos.event(payload, retry=1)
    assert first.status_code == again.status_code == 200
    await eventually(lambda: conversation.handled)
    await kairos.event(barrier())
    await eventually(lambda: len(conversation.handled) >= 2)
    assert [i.text for i in conversation.handled][1:] == [BARRIER_TEXT]
    inbound = conversation.handled[0]
    assert inbound.text == "remind me to water the plants every monday at 8am"
    assert inbound.is_direct and inbound.user_timezone == "Europe/Berlin"
    assert inbound.platform == Platform.SLACK and inbound.workspace_ref == "T0001"


async def test_own_bot_edits_and_joins_are_ignored(fake, make_surface) -> None:
    conversation = RecordingConversation()
    _, kairos = await make_surface(conversation)
    for name in (
        "own_message.json",
        "bot_message.json",
        "message_changed.json",
        "channel_join.json",
    ):
        assert (await kairos.event(load(name))).status_code == 200
    # A channel message outside Kairos's task threads is not for Kairos either.
    chatter = load("thread_reply.json")
    chatter["event_id"] = "EvChatter"
    chatter["event"]["parent_user_id"] = "U0009"
    await kairos.event(chatter)
    await kairos.event(barrier())
    await eventually(lambda: conversation.handled)
    assert [i.text for i in conversation.handled] == [BARRIER_TEXT]


async def test_slash_command_is_acked_within_slacks_3_seconds(fake, make_surface) -> None:
    # Work longer than Slack waits is acked as received, before it is done.
    conversation = RecordingConversation(delay=4.0)
    _, kairos = await make_surface(conversation)
    fields = load("slash_command.json") | {"response_url": fake.response_url()}
    started = time.perf_counter()
    response = await kairos.command(fields)
    acked = time.perf_counter() - started
    assert response.status_code == 200
    assert acked < 3.0, f"ack took {acked:.2f}s"
    assert "Working on it" in response.text
    await eventually(lambda: conversation.handled)
    assert conversation.handled[0].text == "remind me to send the <report> tomorrow at 9am"


async def test_rate_limited_calls_are_retried_after_retry_after(fake, make_surface) -> None:
    surface, _ = await make_surface(RecordingConversation())
    fake.throttle["chat.postMessage"] = 1
    started = time.perf_counter()
    ref = await surface.adapter.send(
        Reply(text="Reminder: stretch", kind=ReplyKind.REMINDER, channel_ref="C0001")
    )
    waited = time.perf_counter() - started
    assert ref is not None
    assert fake.attempts["chat.postMessage"] == 2 and len(fake.of("chat.postMessage")) == 1
    assert waited >= fake.retry_after * 0.9


async def test_tokens_never_reach_logs_or_replies(fake, make_surface, caplog) -> None:
    caplog.set_level("DEBUG")
    conversation = RecordingConversation()
    surface, kairos = await make_surface(conversation)
    await kairos.event(load("dm_message.json"))
    await eventually(lambda: conversation.handled)
    await surface.adapter.send(Reply(text="hi", channel_ref="C0001"))
    assert BOT_TOKEN not in caplog.text
    assert all(BOT_TOKEN not in json.dumps(c.body) for c in fake.calls)


async def test_url_verification_challenge_is_answered(fake, make_surface) -> None:
    _, kairos = await make_surface(RecordingConversation())
    response = await kairos.event({"token": "x", "challenge": "c-123", "type": "url_verification"})
    assert response.status_code == 200 and response.json() == {"challenge": "c-123"}
