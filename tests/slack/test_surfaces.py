"""Modal, shortcut, App Home and task cards over the real task service and store.

Requests go over HTTP, signed, into the real bolt app; everything Kairos sends
to Slack is read back from the fake Web API's recordings.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from waiting import eventually

from bot.slack.taskforms import ServiceTaskForms, StoreHome
from core.enums import Platform, TaskKind
from core.intents.rules import RuleParser
from core.messages import Reply, ReplyKind
from core.services.tasks import TaskService
from core.store import SqlStore, TaskQuery
from core.store.runs import RunStore

from .recording import RecordingConversation

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


@pytest.fixture
async def world(make_surface, sqlite_database, clock) -> dict[str, Any]:
    store = SqlStore(sqlite_database)
    service = TaskService(store=store, clock=clock)
    forms = ServiceTaskForms(service=service, store=store, parser=RuleParser(), clock=clock)
    home = StoreHome(store=store, runs=RunStore(sqlite_database), clock=clock)
    conversation = RecordingConversation()
    surface, kairos = await make_surface(conversation, store=store, forms=forms, home=home)
    workspace = await store.ensure_workspace(Platform.SLACK, "T0001")
    alice = await store.ensure_member(
        workspace.id, "U0001", display_name="alice", timezone="Europe/Berlin"
    )
    return {
        "store": store,
        "service": service,
        "surface": surface,
        "kairos": kairos,
        "alice": alice,
        "conversation": conversation,
    }


async def test_app_home_lists_open_tasks_overdue_first(fake, world, clock) -> None:
    service, alice = world["service"], world["alice"]
    later = await service.create(
        {"title": "Write the report", "due": clock.now() + timedelta(days=2), "assignees": ["me"]},
        actor=alice,
    )
    late = await service.create(
        {"title": "Pay the invoice", "due": clock.now() - timedelta(hours=3), "assignees": ["me"]},
        actor=alice,
    )
    await service.create({"title": "Bob's thing", "assignees": ["U0002"]}, actor=alice)
    await world["kairos"].event(load("app_home_opened.json"))
    publish = (await eventually(lambda: fake.of("views.publish")))[0]
    assert publish.body["user_id"] == "U0001"
    view = publish.view()
    ids = [b["block_id"] for b in view["blocks"] if b.get("block_id", "").startswith("task:")]
    assert ids == [f"task:{late.id}", f"task:{later.id}"]
    text = json.dumps(view)
    assert ":red_circle:" in text and "Bob's thing" not in text
    assert any(
        e["action_id"].startswith("task.done")
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    )


async def test_edit_button_opens_a_prefilled_modal(fake, world) -> None:
    task = await world["service"].create(
        {"title": "Water the plants", "priority": "high", "assignees": ["U0002"]},
        actor=world["alice"],
    )
    press = load("block_actions_done.json")
    press["actions"][0] |= {"action_id": "task.edit#5", "value": str(task.id)}
    response = await world["kairos"].interact(press)
    assert response.status_code == 200
    opened = (await eventually(lambda: fake.of("views.open")))[0]
    assert opened.body["trigger_id"] == press["trigger_id"]
    view = opened.view()
    assert view["callback_id"] == "kairos_edit_task"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["title"]["element"]["initial_value"] == "Water the plants"
    assert blocks["assignees"]["element"]["initial_users"] == ["U0002"]
    assert blocks["priority"]["element"]["initial_option"]["value"] == "high"
    assert world["conversation"].pressed == []


async def test_modal_errors_are_shown_in_the_modal_and_nothing_changes(fake, world) -> None:
    task = await world["service"].create({"title": "Water the plants"}, actor=world["alice"])
    submission = load("view_submission.json")
    view = submission["view"]
    view["private_metadata"] = json.dumps({"task_id": task.id, "channel": None})
    view["state"]["values"]["title"]["value"]["value"] = "  "
    view["state"]["values"]["due"]["value"]["value"] = "when pigs fly"
    response = await world["kairos"].interact(submission)
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"title", "due"}
    stored = await world["store"].get_task(task.id)
    assert stored.title == "Water the plants"


async def test_modal_saves_and_updates_the_card_in_place(fake, world, clock) -> None:
    store, service = world["store"], world["service"]
    task = await service.create({"title": "Water the plants"}, actor=world["alice"])
    await store.update_task(task.id, {"channel_ref": "C0001", "thread_ref": "1700000000.000777"})
    submission = load("view_submission.json")
    submission["view"]["private_metadata"] = json.dumps({"task_id": task.id, "channel": None})
    response = await world["kairos"].interact(submission)
    assert response.status_code == 200 and response.text in ("", "null")
    update = (await eventually(lambda: fake.of("chat.update")))[0]
    assert (update.body["channel"], update.body["ts"]) == ("C0001", "1700000000.000777")
    assert "Water the big plants" in json.dumps(update.blocks())
    stored = await store.get_task(task.id)
    assert stored.title == "Water the big plants" and str(stored.priority) == "high"
    assert stored.assignees == ["U0002"]
    # "tomorrow 17:00" in Alice's Berlin time (clock: Mon 2 Mar 09:00 UTC).
    assert stored.due is not None and stored.due.isoformat() == "2026-03-03T16:00:00+00:00"


async def test_shortcut_creates_a_task_from_a_message_with_its_card(fake, world, clock) -> None:
    shortcut = load("message_action.json")
    await world["kairos"].interact(shortcut)
    opened = (await eventually(lambda: fake.of("views.open")))[0]
    view = opened.view()
    assert view["callback_id"] == "kairos_create_task"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert "update the runbook" in blocks["title"]["element"]["initial_value"]
    assert blocks["due"]["element"]["initial_value"].endswith("17:00")
    # Submit the modal as Slack would: the prefilled values, with its metadata.
    state = {
        "title": {
            "value": {
                "type": "plain_text_input",
                "value": blocks["title"]["element"]["initial_value"],
            }
        },
        "due": {
            "value": {
                "type": "plain_text_input",
                "value": blocks["due"]["element"]["initial_value"],
            }
        },
        "schedule": {"value": {"type": "plain_text_input", "value": None}},
        "assignees": {"value": {"type": "multi_users_select", "selected_users": []}},
        "priority": {"value": {"type": "static_select", "selected_option": {"value": "normal"}}},
    }
    submission = load("view_submission.json")
    submission["view"] |= {
        "callback_id": view["callback_id"],
        "private_metadata": view["private_metadata"],
        "state": {"values": state},
    }
    response = await world["kairos"].interact(submission)
    assert response.status_code == 200
    card = (await eventually(lambda: fake.of("chat.postMessage")))[0]
    assert card.body["channel"] == "C0001"

    async def linked() -> list[Any]:
        found = await world["store"].query_tasks(
            world["alice"].workspace_id, TaskQuery(), now=clock.now()
        )
        return found if found and found[0].thread_ref else []

    tasks = await eventually(linked)  # the card's ts is stored just after it is posted
    assert len(tasks) == 1 and tasks[0].kind == TaskKind.TASK
    assert "update the runbook" in tasks[0].title
    # The card's ts (the fake hands out 1700000000.000001 first) is the task's thread.
    assert (tasks[0].channel_ref, tasks[0].thread_ref) == ("C0001", "1700000000.000001")
    assert "update the runbook" in json.dumps(card.blocks())


@pytest.mark.parametrize("place", ["dm", "channel", "thread"])
async def test_reminders_go_to_dm_channel_or_thread(fake, world, place) -> None:
    store, service, adapter = world["store"], world["service"], world["surface"].adapter
    task = await service.create(
        {"title": "Stretch", "kind": TaskKind.REMINDER, "assignees": ["U0002"]},
        actor=world["alice"],
    )
    if place != "dm":
        await store.update_task(task.id, {"channel_ref": "C0002"})
    if place == "thread":
        await store.update_task(task.id, {"thread_ref": "1700000000.000555"})
    target = {
        "dm": {"user_ref": "U0002"},
        "channel": {"channel_ref": "C0002"},
        "thread": {"channel_ref": "C0002", "thread_ref": "1700000000.000555"},
    }[place]
    ref = await adapter.send(
        Reply(text="Reminder: Stretch", kind=ReplyKind.REMINDER, task_id=task.id, **target)
    )
    posted = fake.of("chat.postMessage")[-1]
    assert ref is not None
    if place == "dm":
        assert fake.of("conversations.open")[0].body["users"] == "U0002"
        assert posted.body["channel"] == "D0002"
    else:
        assert posted.body["channel"] == "C0002"
    assert posted.body.get("thread_ts") == ("1700000000.000555" if place == "thread" else None)
    # In a thread the reminder is also shown in the channel; in channels it calls its people.
    assert bool(posted.body.get("reply_broadcast")) is (place == "thread")
    assert ("<@U0002>" in posted.body["text"]) is (place != "dm")
    ids = [e["action_id"] for b in posted.blocks() if b["type"] == "actions" for e in b["elements"]]
    assert [i.split("#")[0] for i in ids] == [
        "task.done",
        "task.snooze",
        "task.snooze",
        "task.snooze",
        "task.run",
        "task.edit",
    ]
