"""Kairos in Discord end to end: real discord.py, the real conversation and store,
a fake Discord at the network edge (REST bodies recorded, gateway events sent)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from waiting import eventually

from core.messages import Reply, ReplyKind

from .fake_discord import ALICE, BOB, BOT_ID, CHANNEL_ID, FakeDiscord

EPHEMERAL = 64


def custom_ids(body: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in body.get("components", []) for c in row["components"]]


async def cards(fake: FakeDiscord, channel: str = CHANNEL_ID) -> list[Any]:
    return cards_now(fake, channel)


def cards_now(fake: FakeDiscord, channel: str) -> list[Any]:
    return [c for c in fake.of("POST", rf"^/channels/{channel}/messages$") if c.body.get("embeds")]


def card_id(fake: FakeDiscord, call: Any) -> str:
    """The id the fake gave the message ``call`` posted."""
    return next(i for i, m in fake.messages.items() if m["embeds"] == call.body["embeds"])


async def answered(
    fake: FakeDiscord, payload: dict[str, Any], *, saying: str = ""
) -> list[dict[str, Any]]:
    """Send an interaction; wait for its answers with content (or a modal) and return those.

    An answer may come directly or, after a deferral, as follow-ups; with
    ``saying``, wait until one of them contains that text.
    """
    await fake.dispatch("INTERACTION_CREATE", payload)

    def done() -> list[dict[str, Any]]:
        got = [
            a
            for a in fake.answers(payload["id"], payload["token"])
            if a.get("content") or a.get("custom_id")
        ]
        return got if any(saying in (a.get("content") or "") for a in got) else []

    return await eventually(done, within=20)


async def test_slash_command_replies_privately_and_posts_a_card(
    fake: FakeDiscord, start_kairos
) -> None:
    kairos, _ = await start_kairos()
    text = "remind me tomorrow at 9 to send the report"
    answers = await answered(fake, fake.command("kairos", {"text": text}), saying="report")
    reply = answers[0]
    assert "send the report" in reply["content"] and reply["flags"] & EPHEMERAL
    card = (await eventually(lambda: cards(fake)))[0]
    embed = card.body["embeds"][0]
    assert embed["title"].endswith("send the report")
    assert "kairos:task.done:1" in custom_ids(card.body)
    assert {
        "kairos:task.snooze:1:20",
        "kairos:task.snooze:1:60",
        "kairos:task.snooze:1:tomorrow",
        "kairos:task.run:1",
        "kairos:task.edit:1",
    } <= set(custom_ids(card.body))
    assert card.body["allowed_mentions"]["parse"] == []  # never @everyone/@here
    # The card starts the task's thread; its id is the task's thread.
    await eventually(lambda: fake.of("POST", r"/messages/\d+/threads$"))

    async def carded() -> Any:
        task = await kairos.store.get_task(1)
        return task if task.thread_ref else None

    task = await eventually(carded)
    assert task.channel_ref == CHANNEL_ID and task.thread_ref in fake.threads


async def test_a_card_kairos_may_not_post_goes_to_the_dm_and_says_why(
    fake: FakeDiscord, start_kairos
) -> None:
    kairos, _ = await start_kairos()
    fake.closed_channels.add(CHANNEL_ID)
    text = "add task 'rotate the keys' due tomorrow at 10"
    answers = await answered(fake, fake.command("kairos", {"text": text}), saying="is saved")
    said = answers[-1]["content"]
    # Never "Got it … in #channel": it says where the task went, why, and how to move it.
    assert said.startswith("#1 'rotate the keys' is saved, but I may not post in <#810"), said
    assert "come to your DMs" in said and answers[-1]["flags"] & EPHEMERAL
    dm = "6" + ALICE[1:]
    card = (await eventually(lambda: cards(fake, dm), within=20))[0]
    assert card.body["embeds"][0]["footer"]["text"].startswith("#1 'rotate the keys' is saved")
    task = await kairos.store.get_task(1)
    assert task.channel_ref == dm and task.thread_ref == card_id(fake, card)
    # Once Kairos may post there, the move the note suggests puts a new card in the channel.
    fake.closed_channels.clear()
    move = fake.command("kairos", {"text": f"move 1 to <#{CHANNEL_ID}>"})
    await answered(fake, move, saying="Updated")

    def refused_then_posted() -> list[Any]:
        posts = cards_now(fake, CHANNEL_ID)
        return posts[:2] if len(posts) >= 2 else []

    refused, card = await eventually(refused_then_posted, within=20)
    assert refused.body["embeds"][0]["footer"]["text"].startswith("Got it")  # the 403
    assert card.body["embeds"][0]["title"] == "#1 rotate the keys"

    async def in_the_channel() -> Any:
        moved = await kairos.store.get_task(1)
        return moved if moved.thread_ref == card_id(fake, card) else None

    assert (await eventually(in_the_channel)).channel_ref == CHANNEL_ID


async def test_a_reminder_its_channel_refuses_reaches_the_creator_saying_why(
    fake: FakeDiscord, start_kairos
) -> None:
    kairos, surface = await start_kairos()
    text = "add task 'rotate the keys' due tomorrow at 10"
    await answered(fake, fake.command("kairos", {"text": text}), saying="rotate the keys")

    async def carded() -> Any:
        task = await kairos.store.get_task(1)
        return task if task.thread_ref in fake.threads else None

    await eventually(carded)
    fake.closed_channels.add(CHANNEL_ID)  # Kairos lost its permission there afterwards
    reminder = Reply(text="Reminder: rotate the keys", kind=ReplyKind.REMINDER, task_id=1)
    assert await surface.adapter.send(reminder) is not None  # delivered: the run succeeds
    dm = "6" + ALICE[1:]
    [post] = fake.of("POST", rf"^/channels/{dm}/messages$")
    said = post.body["content"]
    assert said.startswith("Reminder: rotate the keys\n(Not posted in <#810"), said
    assert "View Channel and Send Messages" in said and "go there again" in said
    # The task stays where it belongs: once Kairos may post there, it posts there.
    assert (await kairos.store.get_task(1)).channel_ref == CHANNEL_ID
    fake.closed_channels.clear()
    assert await surface.adapter.send(reminder) is not None
    assert len(fake.of("POST", rf"^/channels/{dm}/messages$")) == 1


async def test_dm_creates_a_task(fake: FakeDiscord, start_kairos) -> None:
    kairos, _ = await start_kairos()
    dm = "610000000000000001"
    await fake.dispatch(
        "MESSAGE_CREATE", fake.message("remind me at 5pm to call Bo", guild=False, channel=dm)
    )
    card = (await eventually(lambda: cards(fake, dm), within=20))[0]
    assert "call Bo" in card.body["embeds"][0]["title"]

    async def carded() -> Any:
        task = await kairos.store.get_task(1)
        return task if task.thread_ref else None

    task = await eventually(carded)
    assert task.title == "call Bo" and task.assignees == [ALICE]
    assert task.channel_ref == dm and task.thread_ref == card_id(fake, card)
    assert not fake.of("POST", r"/threads$")  # no threads in DMs


async def test_thread_reply_done_acts_on_the_threads_task(fake: FakeDiscord, start_kairos) -> None:
    # No weekday in the text: this Kairos reads the real clock ("by Friday" on a Friday asks).
    kairos, _ = await start_kairos()
    await fake.dispatch("MESSAGE_CREATE", fake.message(f"<@{BOT_ID}> add task renew the domain"))
    thread = (await eventually(lambda: fake.threads, within=20)).copy().popitem()[0]
    await fake.dispatch("MESSAGE_CREATE", fake.message("done", channel=thread))

    async def finished() -> bool:
        return str((await kairos.store.get_task(1)).status) == "done"

    await eventually(finished, within=20)
    edits = await eventually(
        lambda: fake.of("PATCH", rf"^/channels/{CHANNEL_ID}/messages/{thread}$")
    )
    assert edits[-1].body["embeds"][0]["title"].startswith("~~")
    assert custom_ids(edits[-1].body) == []  # a finished card has no buttons


async def test_reply_to_a_card_in_a_dm_acts_on_its_task(fake: FakeDiscord, start_kairos) -> None:
    kairos, _ = await start_kairos()
    dm = "610000000000000002"
    for number, text in enumerate(("add task renew the domain", "add task order toner"), 1):
        await fake.dispatch("MESSAGE_CREATE", fake.message(text, guild=False, channel=dm))
        await eventually(lambda n=number: len(cards_now(fake, dm)) >= n, within=20)
    first = next(m for m in fake.messages.values() if "renew" in str(m.get("embeds")))
    await fake.dispatch(
        "MESSAGE_CREATE", fake.message("done", guild=False, channel=dm, reply_to=first)
    )

    async def status(task_id: int) -> str:
        return str((await kairos.store.get_task(task_id)).status)

    await eventually(lambda: _is(status(1), "done"), within=20)
    assert await status(2) == "open"


async def _is(value: Any, expected: str) -> bool:
    return await value == expected


async def test_a_press_is_handled_once(fake: FakeDiscord, start_kairos) -> None:
    """A card this very process sent: only the DynamicItem answers (discord.py keeps no
    per-message copy of a view made only of dynamic items, which would answer too)."""
    kairos, surface = await start_kairos()
    await answered(fake, fake.command("task", {"text": "book the venue"}), saying="venue")
    await eventually(lambda: cards(fake))
    posted = next(m for m in fake.messages.values() if m.get("embeds"))
    press = fake.press("kairos:task.done:1", posted)
    await answered(fake, press, saying="")
    await eventually(lambda: fake.of("PATCH", r"/messages/\d+$"))
    said = [a for a in fake.answers(press["id"], press["token"]) if a.get("content")]
    assert len(said) == 1  # (a deferral before it, on a busy machine, says nothing)
    assert not surface.bot.persistent_views
    assert str((await kairos.store.get_task(1)).status) == "done"


async def test_buttons_work_after_a_restart(fake: FakeDiscord, start_kairos) -> None:
    kairos, _ = await start_kairos()
    await answered(fake, fake.command("task", {"text": "water the plants"}))
    await eventually(lambda: cards(fake))
    posted = next(m for m in fake.messages.values() if m.get("embeds"))
    await start_kairos.stop_all()  # Kairos stops: nothing of it survives in memory
    kairos, _ = await start_kairos()
    answers = await answered(fake, fake.press("kairos:task.done:1", posted))
    assert answers and answers[0]["flags"] & EPHEMERAL
    assert str((await kairos.store.get_task(1)).status) == "done"


async def test_edit_modal_validates_in_its_reply(fake: FakeDiscord, start_kairos) -> None:
    kairos, _ = await start_kairos()
    await answered(fake, fake.command("task", {"text": "write the release notes"}))
    posted = (await eventually(lambda: [m for m in fake.messages.values() if m.get("embeds")]))[0]
    opened = await answered(fake, fake.press("kairos:task.edit:1", posted))
    assert opened[0]["custom_id"] == "kairos-edit:1"
    assert opened[0]["title"] == "Edit #1"
    values = {
        "title": "write the release notes",
        "due": "whenever the moon is blue",
        "schedule": "",
        "assignees": "",
        "priority": "normal",
    }
    bad = await answered(fake, fake.submit("kairos-edit:1", values), saying="Not saved")
    assert "Not saved" in bad[0]["content"] and "time" in bad[0]["content"]
    assert (await kairos.store.get_task(1)).due is None
    good = await answered(
        saying="Updated",
        fake=fake,
        payload=fake.submit(
            "kairos-edit:1", {**values, "due": "2030-03-05 17:00", "priority": "high"}
        ),
    )
    assert "Updated #1" in good[0]["content"]
    task = await kairos.store.get_task(1)
    # Read in the server's default zone (alice set none), which stays not hers.
    assert task.due == datetime(2030, 3, 5, 16, tzinfo=UTC) and str(task.priority) == "high"
    workspace = await kairos.store.find_workspace("discord", "800000000000000001")
    assert (await kairos.store.find_member(workspace.id, ALICE)).timezone is None


async def test_slow_work_is_deferred_then_followed_up(fake: FakeDiscord, start_kairos) -> None:
    _, surface = await start_kairos()
    conversation = surface.listeners.conversation

    class Slow:
        async def handle(self, inbound: Any) -> Any:
            await asyncio.sleep(1.0)
            return await conversation.handle(inbound)

        async def press(self, inbound: Any, **kw: Any) -> Any:
            return await conversation.press(inbound, **kw)

    surface.listeners.answer_within = 0.2
    surface.listeners.conversation = Slow()  # type: ignore[assignment]
    payload = fake.command("kairos", {"text": "help"})
    sent = time.monotonic()
    await answered(fake, payload)
    callback = fake.callbacks(payload["id"])[0]
    assert callback.body["type"] == 5  # deferred ("thinking")
    assert callback.at - sent < 3.0
    followup = fake.followups(payload["token"])[0]
    assert "plain language" in followup.body["content"]


async def test_by_default_an_interaction_is_deferred_before_any_work(
    fake: FakeDiscord, start_kairos
) -> None:
    _, surface = await start_kairos()
    conversation = surface.listeners.conversation
    payload = fake.command("tasks", {})
    seen: list[list[Any]] = []

    class Watching:
        async def handle(self, inbound: Any) -> Any:
            seen.append(fake.callbacks(payload["id"]))  # what Discord had when work began
            return await conversation.handle(inbound)

    surface.listeners.conversation = Watching()  # type: ignore[assignment]
    await answered(fake, payload)
    assert seen and [c.body["type"] for c in seen[0]] == [5]  # deferred, then worked
    assert fake.followups(payload["token"])  # the answer came as a follow-up


async def test_ready_work_is_answered_directly_within_3_seconds(
    fake: FakeDiscord, start_kairos
) -> None:
    _, surface = await start_kairos()
    surface.listeners.answer_within = 2.5  # this busy test machine must not force a deferral
    payload = fake.command("tasks", {})
    sent = time.monotonic()
    await answered(fake, payload)
    callback = fake.callbacks(payload["id"])[0]
    assert callback.body["type"] == 4 and callback.at - sent < 3.0


async def test_a_429_is_waited_out_and_the_card_still_posted(
    fake: FakeDiscord, start_kairos
) -> None:
    await start_kairos()
    fake.throttle[rf"^/channels/{CHANNEL_ID}/messages$"] = 1
    fake.retry_after = 0.5
    await answered(fake, fake.command("task", {"text": "order toner"}))
    posted = await eventually(lambda: cards(fake), within=20)
    attempts = fake.of("POST", rf"^/channels/{CHANNEL_ID}/messages$")
    assert fake.limited == 1 and len(attempts) == 2 and len(posted) == 2
    assert attempts[1].at - attempts[0].at >= 0.45  # waited retry_after before the retry


async def test_autocomplete_offers_tasks_and_zones(fake: FakeDiscord, start_kairos) -> None:
    await start_kairos()
    await answered(fake, fake.command("task", {"text": "renew the passport"}))
    payload = fake.autocomplete("done", "task", "pass")
    await fake.dispatch("INTERACTION_CREATE", payload)
    callback = (await eventually(lambda: fake.callbacks(payload["id"])))[0]
    assert callback.body["type"] == 8
    assert callback.body["data"]["choices"] == [{"name": "#1 renew the passport", "value": "1"}]
    zones = fake.autocomplete("timezone", "zone", "berl")
    await fake.dispatch("INTERACTION_CREATE", zones)
    callback = (await eventually(lambda: fake.callbacks(zones["id"])))[0]
    assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in callback.body["data"]["choices"]


async def test_done_revalidates_the_autocompleted_task(fake: FakeDiscord, start_kairos) -> None:
    await start_kairos()
    answers = await answered(fake, fake.command("done", {"task": "42"}), saying="42")
    assert "42" in answers[0]["content"]  # there is no task 42: said so, nothing done
    assert not await cards(fake)


async def test_time_zones_assumed_then_set(fake: FakeDiscord, start_kairos) -> None:
    kairos, _ = await start_kairos()
    remind = fake.command("remind", {"text": "me tomorrow at 9 to stretch"})
    first = await answered(fake, remind, saying="Europe/Berlin")
    notice = [a["content"] for a in first if "Europe/Berlin" in a.get("content", "")]
    assert notice and "/timezone" in notice[0]
    second = await answered(
        fake, fake.command("remind", {"text": "me tomorrow at 10 to eat"}), saying="eat"
    )
    assert not [a for a in second if "/timezone" in a.get("content", "")]  # said once
    await answered(fake, fake.command("timezone", {"zone": "America/New_York"}))
    workspace = await kairos.store.find_workspace("discord", "800000000000000001")
    member = await kairos.store.find_member(workspace.id, ALICE)
    assert member.timezone == "America/New_York"
    server_zone = {"zone": "Asia/Tokyo", "server": True}
    refused = await answered(fake, fake.command("timezone", server_zone, author=BOB))
    assert "Only an admin" in refused[0]["content"]
    # Someone with Manage Server (through a role) is a Kairos admin.
    carol = "700000000000000009"
    done = await answered(fake, fake.command("timezone", server_zone, author=carol, admin=True))
    assert "Asia/Tokyo" in done[0]["content"]
    workspace = await kairos.store.find_workspace("discord", "800000000000000001")
    assert workspace.default_timezone == "Asia/Tokyo"
