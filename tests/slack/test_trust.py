"""The Slack findings of "a conversation people can trust", each against the fake Web API:
people shown as mentions, mentions answered in their thread, a snooze before the
fire firing once, the Edit modal answering where it was pressed, a channel Kairos is
not in named to the person, and request bodies kept out of the logs."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from waiting import eventually

from bot.slack import contract
from core.enums import RunStatus

from . import test_conversation_e2e as e2e
from .signing import form_request, interactive_request

load = e2e.load
# The end-to-end suite's fixtures: the whole app (``kairos_app``) behind signed Slack requests.
chat = e2e.chat
kairos_app = e2e.kairos_app

#: A bare Slack id in what people read: "for U0002", "@U0002" (a mention is ``<@U0002>``).
BARE = re.compile(r"(?<![<@\w])@?U000[12]\b|(?<!<)@U000[12]\b")


def _readable(fake: Any) -> list[str]:
    """Every text and block people can read in what Kairos sent so far."""
    out = []
    for call in fake.calls:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            out.append(str(call.body.get("text", "")))
            out.append(json.dumps(call.blocks()))
    for response in fake.responses:
        out.append(str(response.get("text", "")))
        out.append(json.dumps(response.get("blocks") or []))
    return out


async def test_people_are_mentions_in_every_reply_card_and_list(chat, fake) -> None:
    await chat.command("add task 'review the PR' for <@U0002> tomorrow at 10am")
    [task] = await eventually(chat.tasks)
    await chat.carded(task.id)
    for text in (
        f"who is on {task.id}",
        f"show task {task.id}",
        "list",
        f"unassign <@U0002> from {task.id}",
    ):
        await chat.command(text)
    readable = _readable(fake)
    assert any("<@U0002>" in text for text in readable)
    bare = [text for text in readable if BARE.search(text)]
    assert bare == []


async def test_a_mention_is_answered_in_its_thread(chat, fake) -> None:
    mention = load("app_mention.json")
    mention["event"] |= {"text": "<@UBOT> list", "ts": "1772442300.000100"}
    mention["event_id"] = "EvMention1"
    await chat.kairos.event(mention)
    [answer] = await eventually(lambda: fake.of("chat.postEphemeral"))
    assert answer.body["thread_ts"] == "1772442300.000100"
    question = load("app_mention.json")
    question["event"] |= {"text": "<@UBOT> remind me to call Bo", "ts": "1772442301.000100"}
    question["event_id"] = "EvMention2"
    await chat.kairos.event(question)
    asked = await eventually(lambda: fake.of("chat.postEphemeral")[1:])
    assert asked[0].body["thread_ts"] == "1772442301.000100"
    assert "When should I remind you" in asked[0].body["text"]
    assert not [c for c in fake.of("chat.postMessage") if c.body.get("thread_ts") is None]


async def test_snooze_before_the_fire_fires_once_at_the_snoozed_time(
    chat, fake, clock, kairos_app
) -> None:
    await chat.command("remind <#C0001|general> to stretch in 2 hours")
    [task] = await eventually(chat.tasks)
    ts = (await chat.carded(task.id)).thread_ref
    await chat.press("task.snooze#3", f"{task.id}:tomorrow", message_ts=ts)
    await eventually(lambda: [r for r in fake.responses if r["url"].endswith("press")])
    await kairos_app.start()
    clock.advance(timedelta(days=1, hours=2))  # past both the old and the snoozed time

    async def settled() -> list[Any] | None:
        runs = await kairos_app.runs.runs_for(task.id)
        return runs if runs and all(r.status == RunStatus.COMPLETED for r in runs) else None

    runs = await eventually(settled)
    reminders = [c for c in fake.of("chat.postMessage") if "Reminder" in c.body["text"]]
    assert len(runs) == 1 and len(reminders) == 1
    assert runs[0].scheduled_for == datetime(2026, 3, 3, 8, tzinfo=UTC)  # 09:00 Berlin


async def test_the_edit_modal_confirms_where_edit_was_pressed(chat, fake) -> None:
    await chat.command("remind <#C0001|general> to stretch in 2 hours")
    [task] = await eventually(chat.tasks)
    ts = (await chat.carded(task.id)).thread_ref
    await chat.press("task.edit#5", str(task.id), message_ts=ts)
    view = (await eventually(lambda: fake.of("views.open")))[0].view()
    submission = load("view_submission.json")
    submission["view"] |= {"private_metadata": view["private_metadata"]}
    values = submission["view"]["state"]["values"]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    values["due"]["value"]["value"] = blocks["due"]["element"].get("initial_value")
    values["title"]["value"]["value"] = "stretch properly"
    await chat.kairos.interact(submission)
    said = await eventually(lambda: fake.of("chat.postEphemeral"))
    assert said[0].body["channel"] == "C0001" and said[0].body["user"] == "U0001"
    assert "stretch properly" in said[0].body["text"]
    assert fake.of("conversations.open") == []  # nothing went to a DM
    card = fake.of("chat.update")[-1]
    assert card.body["ts"] == ts and "stretch properly" in card.body["text"]


async def test_a_channel_kairos_is_not_in_is_named_to_the_person(chat, fake) -> None:
    fake.closed_channels.add("C0002")
    await chat.command("remind <#C0002|dev> to deploy tomorrow at 10am")
    [task] = await eventually(chat.tasks)
    told = await eventually(lambda: [r for r in fake.responses if "/invite" in r.get("text", "")])
    assert told[0]["response_type"] == "ephemeral"
    assert "<#C0002>" in told[0]["text"] and f"#{task.id}" in told[0]["text"]
    # Not silently elsewhere: no card in anybody's DM.
    assert fake.of("conversations.open") == []
    assert [c.body["channel"] for c in fake.of("chat.postMessage")] == ["C0002"]


async def test_bolt_never_logs_request_bodies(chat, fake, kairos_app, caplog) -> None:
    """Requests reaching bolt itself (not only our edge): refused ones included."""
    caplog.set_level(logging.DEBUG)
    app = chat.surface.app
    secret_text = "the launch code is 0000"
    hook = "https://hooks.slack.com/commands/T0001/99/zzz"
    fields = load("slash_command.json") | {"text": secret_text, "response_url": hook}
    body, headers = form_request(fields)
    bad = headers | {"X-Slack-Signature": "v0=" + "0" * 64}
    other = fields | {"command": "/not-kairos"}
    press = load("block_actions_done.json")
    press["actions"][0] |= {"action_id": "unknown.thing", "value": secret_text}
    press["response_url"] = hook
    requests = [
        (body, bad),
        form_request(other),
        interactive_request(press),
    ]
    for raw, hdrs in requests:
        await app.async_dispatch(
            AsyncBoltRequest(body=raw, headers={k.lower(): [v] for k, v in hdrs.items()})
        )
    assert "Invalid request signature" in caplog.text or "nhandled" in caplog.text
    assert hook not in caplog.text and "hooks.slack.com" not in caplog.text
    assert secret_text not in caplog.text


async def test_pause_from_slack_goes_through_the_task_service(chat, fake) -> None:
    await chat.command("add task 'water the plants' every day at 9")
    [task] = await eventually(chat.tasks)
    await chat.command(f"pause {task.id}")
    stored = await chat.store.get_task(task.id)
    assert stored.status == "paused" and stored.next_fire_at is None
    events = await chat.store.audit_for_task(task.id)
    paused = [e for e in events if e.action == "task.paused"]
    assert len(paused) == 1
    assert (await chat.store.get_member(paused[0].actor_id)).platform_user_id == "U0001"


async def test_a_personal_reminder_said_in_a_channel_stays_private(chat, fake) -> None:
    await chat.command("remind me to call the bank tomorrow at 9am")
    [task] = await eventually(chat.tasks)
    card = await chat.carded(task.id)
    assert card.private and card.channel_ref == "D0001"  # the card is in the DM
    assert [c.body["channel"] for c in fake.of("chat.postMessage")] == ["D0001"]
    said = [r for r in fake.responses if "call the bank" in r.get("text", "")]
    assert said and all(r["response_type"] == "ephemeral" for r in said)
    # Nobody else's list shows it.
    await chat.command("list", user="U0002")
    assert "call the bank" not in json.dumps(fake.responses[-1])


async def test_done_on_a_card_whose_prerequisite_is_open_asks_first(chat, fake) -> None:
    await chat.command("add task 'QA signoff'")
    await chat.command("add task 'deploy v2' after 'QA signoff'")
    tasks = await eventually(lambda: _two(chat))
    deploy = next(t for t in tasks if t.title == "deploy v2")
    ts = (await chat.carded(deploy.id)).thread_ref
    await chat.press("task.done#0", str(deploy.id), message_ts=ts)
    asked = await eventually(
        lambda: [r for r in fake.responses if "waits for" in r.get("text", "")]
    )
    assert "QA signoff" in asked[0]["text"] and asked[0]["response_type"] == "ephemeral"
    assert (await chat.store.get_task(deploy.id)).status == "open"


async def _two(chat: Any) -> list[Any] | None:
    tasks = await chat.tasks()
    return tasks if len(tasks) == 2 and all(t.thread_ref for t in tasks) else None


async def test_a_reminder_for_a_channel_kairos_is_not_in_reaches_its_creator_saying_why(
    chat, fake, clock, kairos_app
) -> None:
    fake.closed_channels.add("C0002")
    await chat.command("remind <#C0002|dev> to deploy in 20 minutes")
    [task] = await eventually(chat.tasks)
    await kairos_app.start()
    clock.advance(timedelta(minutes=21))

    def delivered() -> list[Any]:
        return [c for c in fake.of("chat.postMessage") if "Not posted in" in c.body["text"]]

    [reminder] = await eventually(delivered)
    assert reminder.body["channel"] == "D0001"
    assert "Reminder: deploy" in reminder.body["text"] and "/invite" in reminder.body["text"]
    assert "<#C0002>" in reminder.body["text"]
    runs = await eventually(lambda: _finished(kairos_app, task.id))
    assert [r.status for r in runs] == [RunStatus.COMPLETED]


async def _finished(kairos_app: Any, task_id: int) -> list[Any] | None:
    runs = await kairos_app.runs.runs_for(task_id)
    return runs if runs and all(r.status == RunStatus.COMPLETED for r in runs) else None


async def test_a_fired_one_off_is_done_and_its_reopen_button_reopens_it(
    chat, fake, clock, kairos_app
) -> None:
    await chat.dm("remind me to stretch in 20 minutes")
    [task] = await eventually(chat.tasks)
    await chat.carded(task.id)
    await kairos_app.start()
    clock.advance(timedelta(minutes=21))

    def reminders() -> list[Any]:
        return [c for c in fake.of("chat.postMessage") if c.body["text"].startswith("Reminder")]

    [reminder] = await eventually(reminders)
    done = await eventually(lambda: _with_status(chat, task.id, "done"))
    assert done.completed_at is not None
    ts = str(reminder.body.get("ts") or "1700000000.000002")
    await chat.press("task.reopen#0", str(task.id), message_ts=ts, channel="D0001")
    await eventually(lambda: _with_status(chat, task.id, "open"))
    ids = [
        e["action_id"] for b in reminder.blocks() if b["type"] == "actions" for e in b["elements"]
    ]
    assert all(contract.ACTION_ID_PATTERN.match(i) for i in ids)  # every button is heard


async def _with_status(chat: Any, task_id: int, status: str) -> Any:
    task = await chat.store.get_task(task_id)
    return task if task.status == status else None


async def test_which_task_is_answered_by_pressing_its_button(chat, fake) -> None:
    await chat.command("add task 'deploy api'")
    await chat.command("add task 'deploy web'")
    tasks = await eventually(lambda: _two(chat))
    web = next(t for t in tasks if t.title == "deploy web")
    await chat.command("done deploy")
    asked = fake.responses[-1]
    assert asked["text"].startswith("Which task") and asked["response_type"] == "ephemeral"
    picks = [
        e
        for b in asked["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["value"] == str(web.id)
    ]
    await chat.press(picks[0]["action_id"], picks[0]["value"], message_ts="1700000000.000099")
    await eventually(lambda: _with_status(chat, web.id, "done"))
    assert all(t.status == "open" for t in await chat.tasks() if t.id != web.id)
