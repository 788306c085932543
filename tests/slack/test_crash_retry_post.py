"""A reminder whose attempt was cut off after Slack accepted the post, before Kairos
recorded it, is not posted again by the retry: each post carries Slack message
metadata with its delivery key, and a retry after a crash (``Job.retry_of_crash``)
looks for it in the channel's (or thread's) history first. Real ``ChatNotifier`` →
real ``SlackAdapter`` → slack_sdk → the fake Web API, which keeps history and
metadata like Slack."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import Kairos
from core.enums import Platform, RunTrigger
from core.jobs import Job, TaskSnapshot

from . import test_conversation_e2e as e2e
from .test_conversation_e2e import Chat

# The end-to-end module's fixtures: Kairos's composition root behind the real bolt app.
kairos_app, chat = e2e.kairos_app, e2e.chat


async def _fire(
    chat: Chat, app: Kairos, *, attempt: int, retry_of_crash: bool, unthreaded: bool = False
) -> str | None:
    """One attempt of the task's fire, as a worker runs it (no delivery record kept).

    ``unthreaded``: as if the task's card had no thread yet when the attempt started.
    """
    [task] = await chat.tasks()
    model = (await app.runs.tasks([task.id]))[task.id]
    snapshot = TaskSnapshot.of(model)
    job = Job(
        run_id=attempt,
        task=replace(snapshot, thread_ref=None) if unthreaded else snapshot,
        scheduled_for=DUE,
        attempt=attempt,
        trigger=RunTrigger.SCHEDULE,
        timeout_seconds=30,
        retry_of_crash=retry_of_crash,
    )
    return await app.notifier.notify(job)


async def _reminder(chat: Chat, app: Kairos, where: str) -> None:
    """A reminder posted in its card's thread (a slash command) or in a channel (outside)."""
    if where == "dm":  # a personal reminder: its card is in the person's DM
        await chat.command("remind me to rotate the keys in 2 hours")
        return
    if where == "thread":  # a channel reminder: its card's thread in the channel
        await chat.command("remind <#C0001|general> to rotate the keys in 2 hours")
        return
    workspace = await app.store.ensure_workspace(Platform.SLACK, "T0001", default_timezone="UTC")
    assert workspace.id is not None
    actor = await app.store.ensure_member(workspace.id, "U0001", display_name="alice")
    at = (chat.clock.now() + timedelta(hours=2)).replace(microsecond=0)
    await app.tasks.create(
        {
            "title": "rotate the keys",
            "schedule": {"kind": "once", "at": at.isoformat(), "timezone": "UTC"},
            "channel_ref": "C0002",
        },
        actor=actor,
    )


#: The fire every attempt here belongs to (attempts of one fire share its instant).
DUE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _reminders(fake: Any) -> list[Any]:
    return [c for c in fake.of("chat.postMessage") if c.body["text"].startswith("Reminder")]


@pytest.mark.parametrize("where", ["channel", "thread"])
async def test_a_retry_after_a_crash_finds_the_post_and_does_not_repeat_it(
    chat: Chat, fake: Any, kairos_app: Kairos, where: str
) -> None:
    await _reminder(chat, kairos_app, where)
    first = await _fire(chat, kairos_app, attempt=1, retry_of_crash=False)
    [post] = _reminders(fake)
    metadata = post.body["metadata"]
    assert metadata["event_type"] == "kairos_run"
    assert metadata["event_payload"]["run"]  # the fire's delivery key
    # The attempt died before its delivery was recorded: the retry only knows it crashed.
    again = await _fire(chat, kairos_app, attempt=2, retry_of_crash=True)
    assert len(_reminders(fake)) == 1, [c.method for c in fake.calls]
    assert again == first  # the earlier post's ts is this attempt's result
    looked = fake.of("conversations.replies" if where == "thread" else "conversations.history")
    assert looked and looked[-1].body["include_all_metadata"] in ("1", "true", True)


async def test_a_retry_posts_when_the_crashed_attempt_had_not_posted(
    chat: Chat, fake: Any, kairos_app: Kairos
) -> None:
    await _reminder(chat, kairos_app, "channel")
    # The first attempt died before it posted: the retry looks, finds nothing, posts.
    await _fire(chat, kairos_app, attempt=2, retry_of_crash=True)
    shown = fake.history.history({"channel": "C0002"})["messages"]
    assert [m["text"] for m in shown] == ["Reminder: rotate the keys"]  # posted once, now
    assert fake.of("conversations.history")  # it looked, found nothing, and posted


async def test_a_first_attempt_does_not_read_history(
    chat: Chat, fake: Any, kairos_app: Kairos
) -> None:
    await _reminder(chat, kairos_app, "channel")
    await _fire(chat, kairos_app, attempt=1, retry_of_crash=False)
    assert fake.of("conversations.history") == [] and fake.of("conversations.replies") == []


async def test_a_retry_finds_the_post_an_attempt_made_before_the_card_had_a_thread(
    chat: Chat, fake: Any, kairos_app: Kairos
) -> None:
    """The first attempt ran before the card's thread was stored: it reached the person in
    their DM. The retry looks there too (not only in the card's thread) and stays quiet."""
    await _reminder(chat, kairos_app, "dm")
    await _fire(chat, kairos_app, attempt=1, retry_of_crash=False, unthreaded=True)
    [post] = _reminders(fake)
    assert post.body["channel"].startswith("D")
    await _fire(chat, kairos_app, attempt=2, retry_of_crash=True)
    assert len(_reminders(fake)) == 1, [c.body["channel"] for c in _reminders(fake)]
