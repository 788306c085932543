""" "summarize this thread": the Slack thread (fake Slack Web API) and the task's comments,
summarized by Claude (fake Anthropic) within the token limit; honest without a key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr
from slack.fake_slack import FakeSlack

from bot.conversation.thread_summary import NEEDS_KEY
from bot.slack.adapter import Clients
from bot.slack.history import SlackChannelHistory
from core.enums import Platform
from core.executors.ai import CHARS_PER_TOKEN
from core.messages import Inbound, Reply, ReplyKind

from .conftest import KEY, ZONE
from .fake_anthropic import Answer, FakeAnthropic

CHANNEL, THREAD = "C0ENG", "1700000000.000100"


async def said(kairos: Any, text: str, *, thread: str | None = THREAD) -> Reply:
    inbound = Inbound(
        platform=Platform.SLACK,
        workspace_ref="T0TEAM",
        user_ref="U0ANA",
        user_name="ana",
        user_timezone=ZONE,
        text=text,
        channel_ref=CHANNEL,
        thread_ref=thread,
    )
    (reply,) = await kairos.conversation.handle(inbound)
    return reply


def _thread(slack: FakeSlack, *texts: str) -> None:
    slack.history.add({"channel": CHANNEL, "text": "Task: ship v2.3"}, THREAD)
    for i, text in enumerate(texts, 1):
        body = {"channel": CHANNEL, "text": text, "thread_ts": THREAD}
        slack.history.add(body, f"17000000{i:02d}.000200")


async def test_the_thread_and_the_comments_are_summarized_by_claude(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, slack: FakeSlack
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    clients = Clients(
        base_url=slack.api_url,  # type: ignore[attr-defined]
        token="xoxb-test",
        installations=None,
        clock=kairos.clock,
    )
    kairos.histories.add(Platform.SLACK, SlackChannelHistory(clients=clients, store=kairos.store))
    fake.default = Answer(text="unused")
    created = await said(kairos, "add task ship v2.3")
    assert created.kind is ReplyKind.CONFIRMATION
    workspace = await kairos.store.find_workspace(Platform.SLACK, "T0TEAM")
    (task,) = await kairos.tasks.query(workspace_id=workspace.id)
    await said(kairos, f"add a comment to #{task.id}: go/no-go call at 3pm")
    _thread(slack, "x" * 60_000, "bob takes the rollback plan", "we ship on Friday")
    fake.then(Answer(text="- Ship on Friday\n- Bob owns the rollback plan"))

    reply = await said(kairos, "summarize this thread")

    assert reply.text == (
        f"Summary of #{task.id} ship v2.3:\n- Ship on Friday\n- Bob owns the rollback plan"
    )
    replies_call = [c for c in slack.calls if c.method == "conversations.replies"]
    assert replies_call[0].body["channel"] == CHANNEL and replies_call[0].body["ts"] == THREAD
    request = fake.requests[-1]
    sent = request.user_text()
    assert f"Task #{task.id}: ship v2.3" in sent
    assert "we ship on Friday" in sent and "bob takes the rollback plan" in sent
    assert "go/no-go call at 3pm" in sent
    assert len(sent) <= 8000 * CHARS_PER_TOKEN + 200  # the long message was cut
    assert "Summarize the discussion" in request.system_blocks()[0]["text"]


async def test_outside_a_thread_and_without_a_key_kairos_says_so(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    offline = await open_kairos()
    reply = await said(offline, "summarize this thread")
    assert reply.text == NEEDS_KEY and "KAIROS_ANTHROPIC_API_KEY" in reply.text
    online = await open_kairos(anthropic_api_key=SecretStr(KEY))
    outside = await said(online, "summarize this thread", thread=None)
    assert outside.kind is ReplyKind.ERROR and "task's thread" in outside.text
    assert fake.requests == []
