"""Kairos in Slack end to end: signed Slack requests over HTTP → real bolt app →
real ``ChatConversation`` / ``TaskService`` / ``SqlStore`` (SQLite) → what was
sent to the fake Slack Web API, and what is in the database."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from waiting import eventually

from bot.app import Kairos
from core.enums import Platform, TaskStatus
from core.intents.rules import RuleParser
from core.store import SqlStore, TaskQuery

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


class Chat:
    """One Slack workspace talking to Kairos, with helpers that wait for the work."""

    def __init__(self, kairos: Any, fake: Any, store: SqlStore, clock: Any) -> None:
        self.kairos, self.fake, self.store, self.clock = kairos, fake, store, clock
        self.surface: Any = None
        self._n = 0

    def _id(self) -> str:
        self._n += 1
        return f"Ev{self._n:04d}x"

    async def command(
        self, text: str, *, user: str = "U0001", channel: str = "C0001", team: str = "T0001"
    ) -> dict[str, Any]:
        before = self.said()
        fields = load("slash_command.json") | {
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "team_id": team,
            "response_url": self.fake.response_url(f"c{self._n}"),
            # Slack gives every invocation its own trigger_id: the inbox's dedupe key.
            "trigger_id": f"13345224609.{uuid.uuid4().int % 10**9}.{uuid.uuid4().hex[:12]}",
        }
        response = await self.kairos.command(fields)
        assert response.status_code == 200
        await eventually(lambda: self.said() > before)
        return fields

    def said(self) -> int:
        """How many things Kairos has said so far (posts, card updates, responses)."""
        out = ("chat.postMessage", "chat.update", "chat.postEphemeral")
        return len(self.fake.responses) + sum(len(self.fake.of(m)) for m in out)

    async def dm(self, text: str, *, user: str = "U0001") -> None:
        payload = load("dm_message.json")
        payload["event_id"] = self._id()
        payload["event"] |= {"text": text, "user": user, "ts": f"1772442{self._n:03d}.000100"}
        await self.kairos.event(payload)

    async def thread_reply(self, text: str, *, thread_ts: str, channel: str = "C0001") -> None:
        payload = load("thread_reply.json")
        payload["event_id"] = self._id()
        payload["event"] |= {
            "text": text,
            "thread_ts": thread_ts,
            "channel": channel,
            "ts": f"1772443{self._n:03d}.000200",
        }
        await self.kairos.event(payload)

    async def press(
        self, action_id: str, value: str, *, message_ts: str, channel: str = "C0001"
    ) -> None:
        payload = load("block_actions_done.json")
        payload["actions"][0] |= {"action_id": action_id, "value": value}
        payload["container"] |= {"message_ts": message_ts, "channel_id": channel}
        payload["channel"]["id"] = channel
        payload["response_url"] = self.fake.response_url("press")
        response = await self.kairos.interact(payload)
        assert response.status_code == 200

    async def carded(self, task_id: int) -> Any:
        """The task once its card is posted and its ``thread_ref`` stored."""

        async def linked() -> Any:
            task = await self.store.get_task(task_id)
            return task if task.thread_ref else None

        return await eventually(linked)

    async def tasks(self, team: str = "T0001") -> list[Any]:
        workspace = await self.store.find_workspace(Platform.SLACK, team)
        if workspace is None:
            return []
        return await self.store.query_tasks(
            workspace.id, TaskQuery(include_deleted=True), now=self.clock.now()
        )


@pytest.fixture
async def kairos_app(slack_settings, clock) -> AsyncIterator[Any]:
    """The lead's composition root (``bot.app.Kairos``): store, service, engine, workers,
    conversation and reminder notifier, on a fresh SQLite file and the manual clock."""
    kairos = await Kairos.open(slack_settings, clock=clock)
    try:
        yield kairos
    finally:
        await kairos.close()


@pytest.fixture
async def chat(fake, make_surface, kairos_app, clock) -> Chat:
    surface, kairos = await make_surface(
        kairos_app.conversation,
        store=kairos_app.store,
        tasks=kairos_app.tasks,
        parser=RuleParser(),
        runs=kairos_app.runs,
    )
    kairos_app.add_chat(Platform.SLACK, surface.adapter)
    talking = Chat(kairos, fake, kairos_app.store, clock)
    talking.surface = surface
    return talking


async def test_slash_command_creates_a_task_and_posts_its_card(chat, fake) -> None:
    await chat.command("remind <#C0001|general> to send the report tomorrow at 9am")
    card = (await eventually(lambda: fake.of("chat.postMessage")))[0]
    [task] = await eventually(chat.tasks)
    assert task.title == "send the report"
    # Alice's zone comes from her Slack profile: 9am Berlin is 08:00 UTC.
    assert task.next_fire_at is not None
    assert task.next_fire_at.isoformat() == "2026-03-03T08:00:00+00:00"
    assert card.body["channel"] == "C0001"
    stored = await chat.carded(task.id)
    assert (stored.channel_ref, stored.thread_ref) == ("C0001", "1700000000.000001")
    actions = [
        e["action_id"].split("#")[0]
        for b in card.blocks()
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert actions == [
        "task.done",
        "task.snooze",
        "task.snooze",
        "task.snooze",
        "task.run",
        "task.edit",
    ]
    assert fake.of("users.info")[0].body["user"] == "U0001"
    member = await chat.store.find_member(stored.workspace_id, "U0001")
    assert member is not None and member.timezone == "Europe/Berlin"


async def test_short_forms_list_done_help(chat, fake) -> None:
    await chat.command("remind <#C0001|general> to water the plants at 5pm")
    [task] = await eventually(chat.tasks)
    await chat.carded(task.id)
    await chat.command("list")
    listing = fake.responses[-1]
    assert "water the plants" in json.dumps(listing)
    await chat.command(f"done {task.id}")
    await eventually(lambda: fake.of("chat.update"))
    assert (await chat.store.get_task(task.id)).status == TaskStatus.DONE
    update = fake.of("chat.update")[-1]
    assert update.body["ts"] == "1700000000.000001"
    assert all(b["type"] != "actions" for b in update.blocks())
    await chat.command("help")
    help_text = fake.responses[-1]
    assert "remind me" in help_text["text"] and help_text["response_type"] == "ephemeral"


async def test_dm_in_natural_language(chat, fake) -> None:
    await chat.dm("remind me to water the plants every monday at 8am")
    card = (await eventually(lambda: fake.of("chat.postMessage")))[0]
    [task] = await chat.tasks()
    assert task.title == "water the plants" and task.schedule["kind"] == "rrule"
    assert card.body["channel"] == "D0001"


async def test_thread_reply_completes_the_threads_task(chat, fake) -> None:
    await chat.command("remind <#C0001|general> to ship the release tomorrow at 10am")
    [task] = await eventually(chat.tasks)
    ts = (await chat.carded(task.id)).thread_ref
    await chat.thread_reply("done", thread_ts=ts)
    await eventually(lambda: fake.of("chat.update"))
    assert (await chat.store.get_task(task.id)).status == TaskStatus.DONE
    answer = await eventually(
        lambda: [c for c in fake.of("chat.postMessage") if c.body.get("thread_ts") == ts]
    )
    assert "ship the release" in answer[0].body["text"]


async def test_thread_reply_reschedules_the_threads_task(chat, fake, clock) -> None:
    await chat.command("remind <#C0001|general> to ship the release tomorrow at 10am")
    [task] = await eventually(chat.tasks)
    ts = (await chat.carded(task.id)).thread_ref
    before = task.next_fire_at
    await chat.thread_reply("push it to friday at 3pm", thread_ts=ts)
    moved = await eventually(lambda: fake.of("chat.update"))
    stored = await chat.store.get_task(task.id)
    assert stored.next_fire_at != before
    # Friday 6 March 15:00 Berlin = 14:00 UTC.
    assert stored.next_fire_at.isoformat() == "2026-03-06T14:00:00+00:00"
    assert moved[-1].body["ts"] == ts


@pytest.mark.parametrize(
    ("action_id", "suffix", "expect"),
    [
        ("task.done#0", "", "done"),
        ("task.snooze#1", ":20", timedelta(minutes=20)),
        ("task.snooze#2", ":60", timedelta(hours=1)),
        ("task.snooze#3", ":tomorrow", "tomorrow"),
        ("task.run#4", "", "run"),
    ],
)
async def test_each_card_button(chat, fake, clock, kairos_app, action_id, suffix, expect) -> None:
    await chat.command("remind <#C0001|general> to stretch in 2 hours")
    [task] = await eventually(chat.tasks)
    ts = (await chat.carded(task.id)).thread_ref
    await chat.press(action_id, f"{task.id}{suffix}", message_ts=ts)
    private = await eventually(lambda: [r for r in fake.responses if r["url"].endswith("press")])
    assert private[-1]["response_type"] == "ephemeral"
    assert "stretch" in private[-1]["text"]
    update = await eventually(lambda: fake.of("chat.update"))
    assert update[-1].body["ts"] == ts
    stored = await chat.store.get_task(task.id)
    runs = await kairos_app.runs.runs_for(task.id)
    if expect == "done":
        assert stored.status == TaskStatus.DONE
        assert all(b["type"] != "actions" for b in update[-1].blocks())
    elif expect == "run":
        assert [r.trigger for r in runs] == ["manual"]
        assert runs[0].scheduled_for == clock.now()
    else:
        # Not fired yet: a snooze never adds a second fire (it would fire twice).
        # Before its time it changes nothing; past it (tomorrow) it moves the reminder.
        assert runs == []
        if expect == "tomorrow":
            assert stored.next_fire_at == datetime(2026, 3, 3, 8, tzinfo=UTC)  # 09:00 Berlin
        else:
            assert stored.next_fire_at == task.next_fire_at
        assert stored.status == TaskStatus.OPEN


async def test_mention_in_a_channel_is_answered_with_a_card(chat, fake) -> None:
    payload = load("app_mention.json")
    await chat.kairos.event(payload)
    card = (await eventually(lambda: fake.of("chat.postMessage")))[0]
    [task] = await chat.tasks()
    assert "U0002" in task.assignees
    assert card.body["channel"] in {"C0001", "C0002"}


async def test_a_second_workspace_sees_nothing_of_the_first(chat, fake) -> None:
    await chat.command("remind <#C0001|general> to pay rent tomorrow at 9am", team="T0001")
    [task] = await eventually(chat.tasks)
    await chat.command("list", team="T0002", user="U0100")
    assert "pay rent" not in json.dumps(fake.responses[-1])
    await chat.command(f"done {task.id}", team="T0002", user="U0100")
    assert (await chat.store.get_task(task.id)).status == TaskStatus.OPEN
    assert await chat.tasks("T0002") == []


@pytest.mark.parametrize("where", ["dm", "channel", "named channel"])
async def test_a_reminder_fires_into_the_right_place(chat, fake, clock, kairos_app, where) -> None:
    if where == "dm":
        await chat.dm("remind me to stretch in 20 minutes")
    elif where == "channel":
        await chat.command("remind me to stretch in 20 minutes")
    else:
        await chat.command("remind <#C0002|dev> to deploy in 20 minutes")
    [task] = await eventually(chat.tasks)
    card = await chat.carded(task.id)
    # A personal reminder said in a channel is private: its card is in the DM.
    expected_channel = {"dm": "D0001", "channel": "D0001", "named channel": "C0002"}[where]
    assert card.channel_ref == expected_channel
    await kairos_app.start()
    clock.advance(timedelta(minutes=21))

    def reminders() -> list[Any]:
        return [c for c in fake.of("chat.postMessage") if c.body["text"].startswith("Reminder")]

    [reminder] = await eventually(reminders)
    assert reminder.body["channel"] == expected_channel
    if where != "named channel":
        assert reminder.body.get("thread_ts") is None  # on top: a DM thread notifies nobody
    else:
        assert reminder.body.get("thread_ts") == card.thread_ref, (reminder.body, card)
    ids = [
        e["action_id"].split("#")[0]
        for b in reminder.blocks()
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    # A one-off reminder is done once it fired: its message offers Reopen instead of Done.
    assert "task.reopen" in ids and "task.snooze" in ids


async def test_app_home_after_chatting(chat, fake) -> None:
    await chat.command("remind me to stretch in 2 hours")
    await chat.command("remind me to file taxes tomorrow at 10am")
    await eventually(lambda: len(fake.of("chat.postMessage")) == 2)
    await chat.kairos.event(load("app_home_opened.json"))
    publish = (await eventually(lambda: fake.of("views.publish")))[0]
    text = json.dumps(publish.view())
    assert "stretch" in text and "file taxes" in text
    assert publish.view()["type"] == "home"


async def test_edit_from_a_card_through_the_whole_app(chat, fake) -> None:
    await chat.command("remind <#C0001|general> to stretch in 2 hours")
    [task] = await eventually(chat.tasks)
    ts = (await chat.carded(task.id)).thread_ref
    await chat.press("task.edit#5", str(task.id), message_ts=ts)
    view = (await eventually(lambda: fake.of("views.open")))[0].view()
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["title"]["element"]["initial_value"] == "stretch"
    submission = load("view_submission.json")
    submission["view"] |= {"private_metadata": view["private_metadata"]}
    submission["view"]["state"]["values"]["due"]["value"]["value"] = blocks["due"]["element"].get(
        "initial_value"
    )
    submission["view"]["state"]["values"]["title"]["value"]["value"] = "stretch properly"
    response = await chat.kairos.interact(submission)
    assert response.status_code == 200
    await eventually(lambda: fake.of("chat.update"))
    assert (await chat.store.get_task(task.id)).title == "stretch properly"


async def test_a_card_the_database_refuses_to_record_is_one_log_line(
    chat, fake, caplog: pytest.LogCaptureFixture
) -> None:
    """The task is saved and its card posted, then storing the card's place fails: the
    person still has the card; the log has one line and no traceback (bolt's "Failed to
    run listener function" traceback before)."""
    async with chat.store.db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "CREATE TRIGGER refuse_cards BEFORE UPDATE OF thread_ref ON tasks "
                "BEGIN SELECT RAISE(ABORT, 'the disk is gone'); END"
            )
        )
    caplog.set_level(logging.INFO)
    await chat.command("remind <#C0001|general> to send the report tomorrow at 9am")
    await eventually(lambda: fake.of("chat.postMessage"))
    line = "a reply was not fully delivered"
    await eventually(lambda: any(line in r.getMessage() for r in caplog.records))
    [task] = await chat.tasks()
    assert task.title == "send the report" and task.thread_ref is None
    assert [r.getMessage() for r in caplog.records if line in r.getMessage()] == [
        f"{line}: That change conflicts with data already stored. (IntegrityError)"
    ]
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
