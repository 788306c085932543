"""Outbound pacing against the fake Slack Web API: Slack's limits met with a queue.

The fake enforces a per-channel ``chat.postMessage`` limit like Slack's (429 +
``Retry-After`` when a channel's bucket is empty) and answers after a latency;
the real slack_sdk client posts through ``Clients`` / ``SlackAdapter``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from waiting import eventually

from bot.slack.adapter import Clients, SlackAdapter
from core.clock import ManualClock
from core.messages import Reply, ReplyKind
from core.store import SqlStore

from .conftest import BOT_TOKEN
from .fake_slack import FakeSlack


class RecordingMetrics:
    """The chat side of ``core.ports.Metrics``: counts (method, outcome)."""

    def __init__(self) -> None:
        self.chat: Counter[tuple[str, str, str]] = Counter()

    def chat_call(self, platform: str, method: str, outcome: str) -> None:
        self.chat[(platform, method, outcome)] += 1

    def __getattr__(self, name: str) -> Any:  # the scheduler's counters: not counted here
        return lambda *a, **kw: None


@pytest.fixture
def metrics() -> RecordingMetrics:
    return RecordingMetrics()


@pytest.fixture
async def adapter(
    fake: FakeSlack, sqlite_database: Any, clock: ManualClock, metrics: Any
) -> AsyncIterator[SlackAdapter]:
    clients = Clients(
        base_url=fake.api_url,  # type: ignore[attr-defined]
        token=BOT_TOKEN,
        installations=None,
        clock=clock,
        metrics=metrics,
    )
    yield SlackAdapter(clients=clients, store=SqlStore(sqlite_database), clock=clock)
    await clients.close()


async def test_posts_reuse_kept_alive_connections(fake: FakeSlack, adapter: SlackAdapter) -> None:
    """slack_sdk alone opens a connection (on Slack: a TLS handshake) per call."""
    for n in range(5):
        assert await adapter.send(reminder("C0001", n))
    assert len(fake.of("chat.postMessage")) == 5
    assert len(fake.peers) == 1, fake.peers
    # Closed at shutdown; a later call (a restarted surface) opens a new pool.
    await adapter.clients.close()
    assert await adapter.send(reminder("C0001", 5))
    assert len(fake.peers) == 2


def reminder(channel: str, n: int) -> Reply:
    return Reply(text=f"Reminder: step {n}", kind=ReplyKind.REMINDER, channel_ref=channel)


async def test_a_limited_channel_meets_one_429_then_waits_and_keeps_order(
    fake: FakeSlack, adapter: SlackAdapter, metrics: RecordingMetrics
) -> None:
    # Slack's ~1 message/s per channel, with no burst: Kairos assumes a burst of 3,
    # so each channel's 2nd message is refused once; after that the queue slows down.
    fake.channel_rate, fake.channel_burst, fake.retry_after = 1.0, 1, 1
    channels = ["C0001", "C0002", "C0003"]
    sends = [adapter.send(reminder(c, n)) for n in range(4) for c in channels]
    refs = await asyncio.gather(*sends)
    assert all(refs)
    for channel in channels:
        assert fake.limited[channel] == 1, fake.limited
        posted = [
            c.body["text"] for c in fake.of("chat.postMessage") if c.body["channel"] == channel
        ]
        assert posted == [f"Reminder: step {n}" for n in range(4)]
    assert metrics.chat[("slack", "chat.postMessage", "ok")] == 12
    assert metrics.chat[("slack", "chat.postMessage", "rate_limited")] == 3


async def test_a_method_limit_pauses_every_later_call_of_it(
    fake: FakeSlack, adapter: SlackAdapter, metrics: RecordingMetrics
) -> None:
    # conversations.open has no channel: its 429 is the workspace's, for everyone.
    fake.throttle["conversations.open"] = 1
    dms = [
        Reply(text="Reminder: x", kind=ReplyKind.REMINDER, user_ref=f"U{i:04d}") for i in range(3)
    ]
    first = asyncio.ensure_future(adapter.send(dms[0]))
    await eventually(lambda: fake.attempts["conversations.open"] >= 1, every=0.005)
    assert all(await asyncio.gather(first, *(adapter.send(r) for r in dms[1:])))
    # One 429 only: the two later calls waited for the pause instead of meeting it.
    assert fake.attempts["conversations.open"] == 4
    assert metrics.chat[("slack", "conversations.open", "rate_limited")] == 1


async def test_a_person_s_dm_channel_is_opened_once(fake: FakeSlack, adapter: SlackAdapter) -> None:
    for _ in range(3):
        await adapter.send(Reply(text="Reminder: x", kind=ReplyKind.REMINDER, user_ref="U0001"))
    assert len(fake.of("conversations.open")) == 1
    assert [c.body["channel"] for c in fake.of("chat.postMessage")] == ["D0001"] * 3


async def test_posts_to_different_channels_are_in_flight_together(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    # Throughput by concurrency (the speed itself is bench/slack_outbound.py's figure).
    fake.latency = 0.2
    refs = await asyncio.gather(*(adapter.send(reminder(f"C{i:04d}", 0)) for i in range(60)))
    assert all(refs)
    assert fake.max_in_flight >= 30, fake.max_in_flight


async def test_reminders_to_people_open_their_dms_together(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    # conversations.open has no channel to keep in order: one lock per method would
    # put every reminder behind the previous one's round trip (issue 8's chaos bench).
    fake.latency = 0.2
    dms = [
        Reply(text="Reminder: x", kind=ReplyKind.REMINDER, user_ref=f"U{i:04d}") for i in range(40)
    ]
    assert all(await asyncio.gather(*(adapter.send(r) for r in dms)))
    opens = fake.of("conversations.open")
    assert len(opens) == 40
    assert fake.max_in_flight >= 20, fake.max_in_flight


async def test_retries_after_a_crash_read_their_channels_histories_together(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    # After a kill -9, every run in flight is retried at once and each asks Slack
    # whether it already posted (conversations.history): not one after the other.
    fake.latency = 0.2
    retries = [
        Reply(
            text="Reminder: x",
            kind=ReplyKind.REMINDER,
            channel_ref=f"C{i:04d}",
            delivery_key=f"{i}@2026-03-02T09:00:00+00:00/C{i:04d}",
            unless_posted=True,
        )
        for i in range(40)
    ]
    assert all(await asyncio.gather(*(adapter.send(r) for r in retries)))
    assert len(fake.of("conversations.history")) == 40
    assert fake.max_in_flight >= 20, fake.max_in_flight


async def test_idle_lanes_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.slack import outbound

    monkeypatch.setattr(outbound, "_MAX_LANES", 5)
    now = [0.0]
    pacer = outbound.Pacer(monotonic=lambda: now[0])

    async def ok() -> str:
        return "ok"

    for i in range(12):
        now[0] += 10.0  # every earlier lane has refilled
        assert await pacer.call("chat.postMessage", f"C{i}", ok) == "ok"
    assert len(pacer._lanes) <= 5


def _limited_error(retry_after: str) -> SlackApiError:
    response = SimpleNamespace(status_code=429, headers={"Retry-After": retry_after})
    return SlackApiError("ratelimited", response)


async def test_two_channels_limited_at_once_pause_the_whole_method() -> None:
    from bot.slack.outbound import Pacer

    now = [100.0]
    pacer = Pacer(monotonic=lambda: now[0])
    refused = {"C1", "C2"}

    def sender(channel: str) -> Any:
        async def send() -> str:
            if channel in refused:
                refused.discard(channel)
                now[0] += 0.01
                raise _limited_error("30")
            return channel

        return send

    # C1's 429 pauses only C1; C2's, while C1 is still paused, is the workspace's
    # limit: chat.postMessage as a whole waits. (The sends retry after the pause.)
    c1 = asyncio.ensure_future(pacer.call("chat.postMessage", "C1", sender("C1")))
    c2 = asyncio.ensure_future(pacer.call("chat.postMessage", "C2", sender("C2")))
    await eventually(lambda: not refused)  # both sends were refused once
    paused = pacer._method_paused_until.get("chat.postMessage", 0.0)
    assert paused >= now[0] + 29.9
    c1.cancel()
    c2.cancel()
    await asyncio.gather(c1, c2, return_exceptions=True)


def test_retry_after_reads_the_header_and_defaults_to_a_second() -> None:
    from bot.slack.outbound import retry_after

    assert retry_after(_limited_error("7")) == 7.0
    assert retry_after(_limited_error("soon")) == 1.0
    other = SlackApiError("channel_not_found", SimpleNamespace(status_code=200, headers={}))
    assert retry_after(other) is None
