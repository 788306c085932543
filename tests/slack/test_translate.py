"""The pure edge: recorded Slack payloads → ``Inbound``; ``Reply`` → Block Kit; modal; home."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.conversation.replies import task_list
from bot.slack import contract
from bot.slack.blocks import card_buttons, render, task_card
from bot.slack.home import HomeData, RunLine, home_view
from bot.slack.inbound import (
    action_to_press,
    command_to_inbound,
    is_own_or_noise,
    message_to_inbound,
    plain_text,
)
from bot.slack.modals import TaskForm, errors_response, read_submission, task_modal
from core.enums import Platform
from core.messages import Reply, ReplyKind, TaskLine
from core.models import TaskPublic

PAYLOADS = Path(__file__).parent / "payloads"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def test_slash_command_becomes_inbound_with_unescaped_text() -> None:
    inbound = command_to_inbound(load("slash_command.json"), user_timezone="Europe/Berlin")
    assert inbound.platform == Platform.SLACK
    assert (inbound.workspace_ref, inbound.user_ref, inbound.channel_ref) == (
        "T0001",
        "U0001",
        "C0001",
    )
    assert inbound.text == "remind me to send the <report> tomorrow at 9am"
    assert inbound.user_timezone == "Europe/Berlin" and not inbound.is_direct


def test_dm_is_direct_and_thread_reply_names_its_thread() -> None:
    dm = message_to_inbound(load("dm_message.json")["event"], team_id="T0001", bot_user_id="UBOT")
    assert dm.is_direct and dm.thread_ref is None and dm.message_ref == "1772442000.000100"
    reply = message_to_inbound(
        load("thread_reply.json")["event"], team_id="T0001", bot_user_id="UBOT"
    )
    assert reply.thread_ref == "1700000000.000001" and not reply.is_direct
    assert reply.text == "done"


def test_mention_drops_the_bot_and_keeps_people_and_channels_as_ids() -> None:
    event = load("app_mention.json")["event"]
    inbound = message_to_inbound(event, team_id="T0001", bot_user_id="UBOT")
    assert inbound.text == "remind @U0002 to review #C0002 PR at 3pm"


@pytest.mark.parametrize(
    ("name", "ignored"),
    [
        ("dm_message.json", False),
        ("thread_reply.json", False),
        ("message_changed.json", True),
        ("bot_message.json", True),
        ("own_message.json", True),
        ("channel_join.json", True),
    ],
)
def test_noise_and_own_messages_are_ignored(name: str, ignored: bool) -> None:
    event = load(name)["event"]
    assert is_own_or_noise(event, bot_user_id="UBOT", bot_id="BBOT") is ignored


def test_plain_text_links_and_specials() -> None:
    assert plain_text("see <https://x.io/a|the doc> &amp; <!here>") == "see https://x.io/a & @here"


def test_wire_text_parses_after_translation_at_the_edge() -> None:
    """Slack syntax never reaches core: plain_text gives the neutral form (core.mentions)."""
    from core.intents.rules import RuleParser

    now = datetime(2026, 11, 26, 12, tzinfo=UTC)

    def parse(wire: str) -> Any:
        return RuleParser().parse(plain_text(wire), now=now, tz="UTC", user="me")

    job = parse("every hour fetch <https://status.example.com/api|status.example.com>")
    assert job.action == {"type": "http", "url": "https://status.example.com/api", "method": "GET"}
    reminder = parse("remind <@U0G9QF9C6> tomorrow to send the deck")
    assert reminder.assignees == ["U0G9QF9C6"] and reminder.title == "send the deck"
    ping = parse("ping <#C0123ABC|release> at 5 to freeze the branch")
    assert ping.channel == "C0123ABC" and ping.title == "freeze the branch"


def test_button_press_on_a_card_and_on_the_home_tab() -> None:
    press = action_to_press(load("block_actions_done.json"))
    assert (press.action, press.value, press.message_ts, press.on_home) == (
        "task.done",
        "1",
        "1700000000.000001",
        False,
    )
    home = action_to_press(load("block_actions_home.json"))
    assert (home.action, home.value, home.on_home) == ("task.snooze", "1:60", True)
    assert home.inbound.workspace_ref == "T0001"


def test_card_buttons_have_unique_action_ids_that_the_app_handles() -> None:
    message = render(Reply(text="Created #7", kind=ReplyKind.CONFIRMATION, task_id=7))
    actions = next(b for b in message.blocks if b["type"] == "actions")["elements"]
    ids = [a["action_id"] for a in actions]
    assert len(set(ids)) == len(ids) == 6
    assert all(contract.ACTION_ID_PATTERN.match(i) for i in ids)
    assert [a["value"] for a in actions] == ["7", "7:20", "7:60", "7:tomorrow", "7", "7"]
    assert {b.action for b in card_buttons(7)} == set(contract.TASK_ACTIONS)


def test_render_escapes_and_keeps_full_text_fallback() -> None:
    message = render(Reply(text="Fix <b> & co", kind=ReplyKind.ERROR))
    assert message.text == "Fix <b> & co"
    assert message.blocks[0]["text"]["text"] == ":warning: Fix &lt;b&gt; &amp; co"
    assert not [b for b in message.blocks if b["type"] == "actions"]


def test_task_list_renders_one_section_per_task_overdue_marked() -> None:
    lines = tuple(
        TaskLine(task_id=i, title=f"t{i}", when="today", overdue=i == 2) for i in range(1, 26)
    )
    message = render(Reply(text="Your tasks:\n…", kind=ReplyKind.TASK_LIST, tasks=lines))
    sections = [b for b in message.blocks if b.get("block_id", "").startswith("task:")]
    assert len(sections) == 20 and ":red_circle:" in sections[1]["text"]["text"]
    assert message.blocks[-1]["type"] == "context"


def _task(**kw: Any) -> TaskPublic:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    data: dict[str, Any] = dict(
        id=3,
        workspace_id=1,
        title="Ship it",
        status="open",
        due=datetime(2026, 3, 1, tzinfo=UTC),
        schedule={"kind": "interval", "every_seconds": 7200, "timezone": "UTC"},
        action=None,
        retry_policy=None,
        enabled=True,
        next_fire_at=None,
        created_by=None,
        last_modified_by=None,
        created_at=now,
        updated_at=now,
        completed_at=None,
        deleted_at=None,
        assignees=["U0002"],
    )
    data.update(kw)
    return TaskPublic(**data)


def test_task_card_shows_state_and_drops_buttons_when_done() -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    card = task_card(_task(), tz="Europe/Berlin", now=now)
    fields = json.dumps(card.blocks[1])
    assert "every 2 h" in fields and "<@U0002>" in fields and ":red_circle:" in fields
    assert card.blocks[-1]["type"] == "actions"
    done = task_card(_task(status="done"), tz="UTC", now=now, note="Done by alice")
    assert all(b["type"] != "actions" for b in done.blocks)
    assert done.blocks[0]["text"]["text"].startswith("~*#3*")


def test_modal_round_trip_and_errors() -> None:
    view = task_modal(
        TaskForm(title="Ship", due="tomorrow", assignees=("U1",), priority="high", task_id=4)
    )
    assert view["callback_id"] == contract.VIEW_EDIT_TASK
    assert view["blocks"][3]["element"]["initial_users"] == ["U1"]
    form = read_submission(load("view_submission.json")["view"])
    assert form == TaskForm(
        title="Water the big plants",
        due="tomorrow 17:00",
        schedule="",
        assignees=("U0002",),
        priority="high",
        task_id=1,
        channel=None,
    )
    assert errors_response({"due": "?"}) == {"response_action": "errors", "errors": {"due": "?"}}
    create = task_modal(TaskForm(title="x", channel="C1"))
    assert create["callback_id"] == contract.VIEW_CREATE_TASK
    assert json.loads(create["private_metadata"]) == {"task_id": None, "channel": "C1"}


def test_home_puts_overdue_first_with_buttons() -> None:
    data = HomeData(
        tasks=(TaskLine(1, "later", when="Fri"), TaskLine(2, "late", when="Mon", overdue=True)),
        reminders=(TaskLine(3, "stretch", when="15:00"),),
        runs=(RunLine(3, "stretch", "completed", "09:00"),),
    )
    view = home_view(data)
    assert view["type"] == "home"
    ids = [b.get("block_id") for b in view["blocks"] if b.get("block_id", "").startswith("task:")]
    assert ids == ["task:2", "task:1"]
    action_ids = [
        e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert all(contract.ACTION_ID_PATTERN.match(a) for a in action_ids)


def test_a_lists_heading_and_kaiross_notes_are_not_shown_as_fields() -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    listed = task_list("Open tasks", [_task()], tz="UTC", now=now)
    assert listed.fields == {"heading": "Open tasks"}  # for the console's table title
    blocks = render(listed).blocks
    assert [b.get("block_id") for b in blocks] == [None, "task:3"]
    assert "heading" not in json.dumps(blocks)
    public = Reply(text="Got it", kind=ReplyKind.CONFIRMATION, fields={"public": "1", "Due": "3pm"})
    fields = [f["text"] for b in render(public).blocks for f in b.get("fields", [])]
    assert fields == ["*Due*\n3pm"]
