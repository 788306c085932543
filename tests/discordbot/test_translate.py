"""The Discord edge as pure functions: wire text → neutral Inbound, Reply → message."""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from bot.discord.adapter import mentions_for, send_kwargs
from bot.discord.commands import zone_choices
from bot.discord.components import BUTTON_TEMPLATE, read_modal, task_of_modal, view_for
from bot.discord.inbound import Said, plain_text, to_inbound
from bot.discord.render import (
    MAX_CONTENT,
    MAX_EMBED_TOTAL,
    MAX_FIELD_VALUE,
    render,
    task_card,
)
from core.enums import Platform
from core.messages import Attachment, Reply, ReplyKind, TaskLine
from core.models import TaskPublic

BOT = "900000000000000002"


def test_mentions_become_the_neutral_form() -> None:
    wire = (
        f"<@{BOT}> remind <@123456789012345678> and <@!223456789012345678> in <#333456789012345678>"
        " with <@&444456789012345678> <:party:555456789012345678> @everyone <https://x.io/a>"
    )
    text = plain_text(wire, bot_user_id=BOT, roles={"444456789012345678": "oncall"})
    assert text == (
        "remind @123456789012345678 and @223456789012345678 in #333456789012345678"
        " with oncall everyone https://x.io/a"
    )


def test_to_inbound_in_a_thread_a_channel_and_a_dm() -> None:
    said = Said(
        author_id="1",
        author_name="ana",
        content="done",
        channel_id="777",
        message_id="9",
        guild_id="55",
        parent_id="66",
    )
    inbound = to_inbound(said, bot_user_id=BOT, user_timezone="Europe/Paris")
    assert inbound.platform is Platform.DISCORD and inbound.workspace_ref == "55"
    assert (inbound.channel_ref, inbound.thread_ref) == ("66", "777")
    assert not inbound.is_direct and inbound.user_timezone == "Europe/Paris"
    channel = to_inbound(
        Said(
            author_id="1",
            author_name="",
            content="x",
            channel_id="5",
            message_id="9",
            guild_id="55",
        ),
        bot_user_id=BOT,
    )
    assert (channel.channel_ref, channel.thread_ref) == ("5", None)
    dm = to_inbound(
        Said(author_id="1", author_name="", content="x", channel_id="5", message_id="9"),
        bot_user_id=BOT,
        dm_workspace="home",
    )
    assert dm.is_direct and dm.workspace_ref == "home"


def test_long_text_goes_as_an_attachment() -> None:
    message = render(Reply(text="x" * 5000))
    assert len(message.content) <= MAX_CONTENT and "attached" in message.content
    assert message.file is not None and len(message.file.content) == 5000
    kwargs = send_kwargs(message)
    assert isinstance(kwargs["file"], discord.File)
    log = Attachment(filename="run-1.log", content="all of it")
    assert render(Reply(text="short", attachment=log)).file == log
    chart = Attachment(filename="report.png", content="Charts", data=b"\x89PNG\r\n\x1a\n...")
    sent = send_kwargs(render(Reply(text="Report for the team", attachment=chart)))["file"]
    assert sent.filename == "report.png" and sent.fp.read() == chart.data  # the picture's bytes


def test_mentions_ping_only_the_people_named() -> None:
    message = render(Reply(text="for @123456789012345678 in #333456789012345678"))
    assert message.content == "for <@123456789012345678> in <#333456789012345678>"
    allowed = mentions_for(message).to_dict()
    assert allowed["parse"] == [] and allowed["users"] == [123456789012345678]
    assert "roles" not in allowed or allowed["roles"] == []


def test_embeds_respect_discords_limits() -> None:
    lines = tuple(TaskLine(task_id=i, title="t" * 300, when="tomorrow") for i in range(60))
    message = render(Reply(text="Your tasks", kind=ReplyKind.TASK_LIST, tasks=lines))
    embed = message.embeds[0]
    assert len(embed) <= MAX_EMBED_TOTAL and len(embed.description or "") <= 4096
    fields = {f"name {i}": "v" * 3000 for i in range(30)}
    wide = render(Reply(text="x", fields=fields)).embeds[0]
    assert len(wide) <= MAX_EMBED_TOTAL and len(wide.fields) <= 25
    assert all(len(f.value or "") <= MAX_FIELD_VALUE for f in wide.fields)


def _task(**kw: object) -> TaskPublic:
    data: dict[str, object] = {
        "id": 7,
        "workspace_id": 1,
        "title": "renew the domain",
        "status": "open",
        "priority": "high",
        "assignees": ["123456789012345678"],
        "due": datetime(2026, 12, 4, 16, tzinfo=UTC),
        "schedule": None,
        "action": None,
        "retry_policy": None,
        "enabled": True,
        "next_fire_at": None,
        "created_by": None,
        "last_modified_by": None,
        "created_at": datetime(2026, 12, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 12, 1, tzinfo=UTC),
        "completed_at": None,
        "deleted_at": None,
    }
    data.update(kw)
    return TaskPublic(**data)  # type: ignore[arg-type]


def test_task_card_and_its_persistent_buttons() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    card = task_card(_task(), tz="Europe/Berlin", now=now, note="Snoozed until 13:00")
    embed = card.embeds[0].to_dict()
    assert embed["title"] == "#7 renew the domain"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Assignees"] == "<@123456789012345678>" and fields["Priority"] == "high"
    assert embed["footer"]["text"] == "Snoozed until 13:00"
    view = view_for(card.buttons)
    assert view is not None and view.is_persistent()
    ids = [c["custom_id"] for row in view.to_components() for c in row["components"]]
    assert ids == [
        "kairos:task.done:7",
        "kairos:task.snooze:7:20",
        "kairos:task.snooze:7:60",
        "kairos:task.snooze:7:tomorrow",
        "kairos:task.run:7",
        "kairos:task.edit:7",
    ]
    import re

    assert all(re.fullmatch(BUTTON_TEMPLATE, i) for i in ids)
    done = task_card(_task(status="done"), tz="UTC", now=now)
    assert done.buttons == () and done.embeds[0].title.startswith("~~")


def test_modal_submission_reads_back() -> None:
    data = {
        "custom_id": "kairos-edit:12",
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "title", "value": " Ship it "}]},
            {
                "type": 1,
                "components": [
                    {"type": 4, "custom_id": "assignees", "value": "<@123456789012345678>"}
                ],
            },
            {"type": 1, "components": [{"type": 4, "custom_id": "priority", "value": "HIGH"}]},
        ],
    }
    assert task_of_modal(data["custom_id"]) == 12 and task_of_modal("other:1") is None
    form = read_modal(data, 12)
    assert form.title == "Ship it" and form.assignees == ("123456789012345678",)
    assert form.priority == "high" and form.task_id == 12


def test_zone_autocomplete() -> None:
    assert zone_choices("berl")[0] == "Europe/Berlin"
    assert "America/New_York" in zone_choices("new york")
    assert len(zone_choices("")) == 25


def test_kaiross_notes_to_the_surface_are_not_shown_as_embed_fields() -> None:
    public = Reply(text="Got it", kind=ReplyKind.CONFIRMATION, task_id=7, fields={"public": "1"})
    assert render(public).embeds == ()
    noted = Reply(text="x", fields={"public": "1", "status": "done", "Due": "3pm"})
    assert [(f.name, f.value) for f in render(noted).embeds[0].fields] == [("Due", "3pm")]
