"""The ``ai_prompt`` executor: context builders, the token limit, what is stored."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from executors.helpers import job
from slack.fake_slack import FakeSlack
from slack.fake_slack import serving as serving_slack

from bot.slack.adapter import Clients
from bot.slack.history import SlackChannelHistory
from core.clock import ManualClock
from core.errors import JobFailed
from core.executors.ai import AiPromptExecutor, channels_named, fit
from core.models import Workspace
from core.store import SqlStore
from integrations.llm.client import ClaudeClient

from .fake_anthropic import Answer, FakeAnthropic

TS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()


class HistorySlack(FakeSlack):
    """The fake Slack Web API with two channels and some history."""

    def _conversations_list(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {
            "ok": True,
            "channels": [{"id": "C0GENERAL", "name": "general"}, {"id": "C0SRE", "name": "sre"}],
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_history(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        if body.get("channel") != "C0SRE":
            return {"ok": False, "error": "not_in_channel"}
        return {
            "ok": True,
            "messages": [  # newest first, as Slack sends them
                {
                    "type": "message",
                    "user": "U0002",
                    "text": "resolved: db failover",
                    "ts": f"{TS + 60}",
                },
                {"type": "message", "user": "U0001", "text": "incident: db is down", "ts": f"{TS}"},
            ],
        }  # fmt: skip


@pytest.fixture
async def slack() -> AsyncIterator[HistorySlack]:
    async with serving_slack(HistorySlack()) as server:
        yield server


class Digests:
    async def text(self, job: Any, *, channel: str | None) -> str:
        return f"2 open tasks in #{channel}"


def test_prompts_name_their_channels_and_context_is_cut_to_the_limit() -> None:
    assert channels_named("summarize #general and #sre, not http://x/#y") == ["general", "sre"]
    long = "\n".join(f"line {i}" for i in range(1000))
    text = fit([("A", long), ("B", "short")], max_tokens=100)
    assert len(text) <= 100 * 4
    assert "line 999" in text and "line 0\n" not in text  # the newest end is kept


async def test_an_ai_job_reads_the_named_channel_tasks_and_event(
    fake: FakeAnthropic, claude: ClaudeClient, slack: HistorySlack, store: SqlStore,
    clock: ManualClock, workspace: Workspace,
) -> None:  # fmt: skip
    clients = Clients(
        base_url=slack.api_url,
        token="xoxb-test",
        installations=None,
        clock=clock,  # type: ignore[attr-defined]
    )
    executor = AiPromptExecutor(
        model=claude,
        system="You are Kairos.",
        digests=Digests(),
        channels=SlackChannelHistory(clients=clients, store=store),
    )
    fake.then(Answer(text="One incident: the db was down, then failed over.", output_tokens=12))
    the_job = job(
        {"type": "ai_prompt", "prompt": "summarize last week's incidents in #sre"},
        workspace_id=workspace.id or 0,
    )
    the_job = dataclasses.replace(the_job, event={"source": "pagerduty", "id": 7})
    result = await executor.execute(the_job)
    assert result.output == "One incident: the db was down, then failed over."
    assert result.result is not None
    assert result.result["prompt"] == "summarize last week's incidents in #sre"
    assert result.result["response"] == result.output and result.result["output_tokens"] == 12
    sent = fake.requests[0].user_text()
    # Oldest first, with authors; the digest of that channel; the event payload.
    assert sent.index("incident: db is down") < sent.index("resolved: db failover")
    assert "@U0001: incident: db is down" in sent
    assert "2 open tasks in #sre" in sent and '"pagerduty"' in sent
    history = [c for c in slack.calls if c.method == "conversations.history"]
    assert history and history[0].body["channel"] == "C0SRE"


async def test_an_unreadable_channel_is_said_and_claude_down_fails_the_run(
    fake: FakeAnthropic, claude: ClaudeClient, slack: HistorySlack, store: SqlStore,
    clock: ManualClock, workspace: Workspace,
) -> None:  # fmt: skip
    clients = Clients(
        base_url=slack.api_url,
        token="xoxb-test",
        installations=None,
        clock=clock,  # type: ignore[attr-defined]
    )
    executor = AiPromptExecutor(
        model=claude, system="s", channels=SlackChannelHistory(clients=clients, store=store)
    )
    the_job = job(
        {"type": "ai_prompt", "prompt": "summarize #general"}, workspace_id=workspace.id or 0
    )
    fake.then(Answer(text="Nothing to read."))
    await executor.execute(the_job)
    assert (
        "(not available: Slack did not give the history of #general" in fake.requests[0].user_text()
    )
    fake.default = Answer(status=529)
    with pytest.raises(JobFailed) as failed:
        await executor.execute(the_job)
    assert "Claude is unavailable" in failed.value.message
