"""Neutral ``Reply`` → Block Kit (pure functions, no I/O).

``render(reply)`` gives the ``text`` (always a complete fallback, used by
notifications and screen readers) and the ``blocks`` of a Slack message. Task
cards carry the Done / Snooze / Run now / Edit buttons; the same builders feed
the App Home view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.cards import card_phrases
from bot.slack import contract
from core.messages import ENGLISH, Button, Labels, Reply, ReplyKind, TaskLine
from core.models import TaskPublic

Block = dict[str, Any]

#: Slack caps a message at 50 blocks; a list longer than this is cut with a note.
MAX_LIST_TASKS = 20
_SECTION_LIMIT = 3000  # characters of mrkdwn in one section


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """What ``chat.postMessage``/``chat.update`` take: fallback text and blocks."""

    text: str
    blocks: list[Block]


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


#: Neutral references to Slack people (``@U0123ABC``) and channels (``#C0123ABC``).
_PERSON = re.compile(r"(?<![\w<&/])@([UW](?=[A-Z]*\d)[A-Z0-9]{4,})\b")
_CHANNEL = re.compile(r"(?<![\w<&/])#([CG](?=[A-Z]*\d)[A-Z0-9]{4,})\b")


def linked(text: str) -> str:
    """Escaped mrkdwn in which people and channels are Slack mentions, never bare ids."""
    return _CHANNEL.sub(r"<#\1>", _PERSON.sub(r"<@\1>", escape(text)))


def plain_linked(text: str) -> str:
    """The fallback ``text`` of a message, with the same mentions as its blocks."""
    return _CHANNEL.sub(r"<#\1>", _PERSON.sub(r"<@\1>", text))


def _clip(text: str, limit: int = _SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def card_buttons(task_id: int) -> tuple[Button, ...]:
    """The buttons every task card and fired reminder offers."""
    tid = str(task_id)
    return (
        Button("Done", contract.ACTION_DONE, tid),
        Button("Snooze 20 min", contract.ACTION_SNOOZE, f"{tid}:20"),
        Button("Snooze 1 h", contract.ACTION_SNOOZE, f"{tid}:60"),
        Button("Tomorrow", contract.ACTION_SNOOZE, f"{tid}:tomorrow"),
        Button("Run now", contract.ACTION_RUN, tid),
        Button("Edit", contract.ACTION_EDIT, tid),
    )


def button_element(button: Button, index: int) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": button.label[:75], "emoji": True},
        "action_id": f"{button.action}#{index}",
        "value": button.value[:2000],
    }
    if button.action == contract.ACTION_DONE:
        element["style"] = "primary"
    return element


def actions(buttons: tuple[Button, ...], *, block_id: str | None = None) -> Block:
    block: Block = {
        "type": "actions",
        "elements": [button_element(b, i) for i, b in enumerate(buttons[:25])],
    }
    if block_id:
        block["block_id"] = block_id
    return block


def buttons_for(reply: Reply) -> tuple[Button, ...]:
    """The reply's own buttons; a task card or fired reminder gets the standard set
    (in the reply's language). A card for a finished task (``fields['status']``
    done/deleted) gets none.
    """
    if reply.buttons:
        return reply.buttons
    finished = reply.fields.get("status", "").lower() in {"done", "deleted"}
    if (
        reply.task_id is not None
        and reply.kind in (ReplyKind.CONFIRMATION, ReplyKind.REMINDER)
        and not finished
    ):
        return reply.labels.buttons(card_buttons(reply.task_id))
    return ()


def task_line_text(line: TaskLine, labels: Labels = ENGLISH) -> str:
    parts = [f"*#{line.task_id}* {escape(line.title)}"]
    details = [d for d in (line.when, line.status, line.priority) if d]
    if line.assignees:
        details.append(", ".join(_who(a) for a in line.assignees))
    if details:
        parts.append(" · ".join(escape(d) if not d.startswith("<@") else d for d in details))
    text = "\n".join(parts)
    return f":red_circle: {text}  _{escape(labels('overdue'))}_" if line.overdue else text


def _who(ref: str) -> str:
    # Assignees are Slack user ids when Kairos knows them; mention those.
    return f"<@{ref}>" if ref[:1] in {"U", "W"} and ref.isalnum() and ref.isupper() else ref


def task_line_blocks(
    line: TaskLine, *, with_buttons: bool, labels: Labels = ENGLISH
) -> list[Block]:
    """One task of a list (a reply's, App Home's), with Done and Snooze when asked."""
    block = section(task_line_text(line, labels))
    block["block_id"] = f"task:{line.task_id}"
    if not with_buttons:
        return [block]
    buttons = labels.buttons(card_buttons(line.task_id)[:3])
    return [block, actions(buttons, block_id=f"task-actions:{line.task_id}")]


def more_note(more: int, labels: Labels = ENGLISH) -> Block:
    """The note under a list cut short: how many tasks it does not show."""
    text = labels.fill("…and {count} more", count=more)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(text)}]}


_ICONS = {
    ReplyKind.CONFIRMATION: ":white_check_mark:",
    ReplyKind.REMINDER: ":alarm_clock:",
    ReplyKind.ERROR: ":warning:",
    ReplyKind.QUESTION: ":thinking_face:",
}


def sections_blocks(reply: Reply) -> list[Block]:
    """A reply with sections (a digest): a header (its first line), then one block per
    section with a bold title, dividers between them."""
    title = reply.text.splitlines()[0] if reply.text else "Digest"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(title, 150)}}
    ]
    for part in reply.sections[:20]:
        body = "\n".join(linked(line) for line in part.lines)
        blocks.append(section(f"*{escape(part.title)}*\n{body}"))
        blocks.append({"type": "divider"})
    if blocks[-1]["type"] == "divider":
        blocks.pop()
    return blocks


def render(reply: Reply) -> SlackMessage:
    """Block Kit for one reply; ``text`` stays the reply's complete plain text."""
    if reply.sections:
        digest = sections_blocks(reply)
        if buttons := buttons_for(reply):
            block_id = f"task-actions:{reply.task_id}" if reply.task_id is not None else None
            digest.append(actions(buttons, block_id=block_id))
        return SlackMessage(text=_clip(reply.text or "…", 4000), blocks=digest)
    icon = _ICONS.get(reply.kind)
    head = linked(reply.text or "…")
    if reply.kind == ReplyKind.TASK_LIST and reply.tasks:
        # ``text`` lists every task in plain text; the blocks show them one by one.
        head = linked(reply.text.splitlines()[0] if reply.text else "Tasks")
    blocks: list[Block] = [section(f"{icon} {head}" if icon else head)]
    if reply.task_id is not None:
        blocks[0]["block_id"] = f"task:{reply.task_id}"
    if shown := reply.shown_fields:
        fields = [
            {"type": "mrkdwn", "text": _clip(f"*{escape(k)}*\n{linked(v)}", 2000)}
            for k, v in list(shown.items())[:10]
        ]
        blocks.append({"type": "section", "fields": fields})
    if reply.kind == ReplyKind.TASK_LIST and reply.tasks:
        for line in reply.tasks[:MAX_LIST_TASKS]:
            blocks.extend(task_line_blocks(line, with_buttons=False, labels=reply.labels))
        if len(reply.tasks) > MAX_LIST_TASKS:
            blocks.append(more_note(len(reply.tasks) - MAX_LIST_TASKS, reply.labels))
    buttons = buttons_for(reply)
    if buttons:
        block_id = f"task-actions:{reply.task_id}" if reply.task_id is not None else None
        blocks.append(actions(buttons, block_id=block_id))
    return SlackMessage(text=_clip(plain_linked(reply.text or "…"), 4000), blocks=blocks)


def task_card(
    task: TaskPublic, *, tz: str, now: datetime, note: str = "", labels: Labels = ENGLISH
) -> SlackMessage:
    """The message that stands for a task: title, when, who, and its buttons.

    Its ``ts`` is the task's ``thread_ref``; it is re-rendered in place
    (``chat.update``) whenever the task changes. ``note`` is the latest thing
    that happened to it ("Snoozed until 10:20 by …"). ``labels``: its field names
    and buttons in the language of the task (``bot.conversation.labels``).
    """
    status = str(task.status)
    finished = status in {"done", "deleted"}
    title = f"*#{task.id}* {escape(task.title)}"
    if finished:
        title = f"~{title}~  _{labels(status)}_"
    blocks: list[Block] = [section(title)]
    blocks[0]["block_id"] = f"task:{task.id}"
    fields: list[tuple[str, str]] = []
    phrases = {k: labels(v) for k, v in card_phrases(task, tz=tz, now=now).items()}
    if task.due is not None:
        overdue = not finished and task.due < now
        fields.append(("Due", phrases["Due"] + ("  :red_circle:" if overdue else "")))
    if "Repeats" in phrases:
        fields.append(("Repeats", escape(phrases["Repeats"])))
    if "Next" in phrases:
        fields.append(("Next", phrases["Next"]))
    if task.assignees:
        fields.append(("Assignees", ", ".join(_who(a) for a in task.assignees)))
    fields.append(("Priority", labels(str(task.priority))))
    blocks.append(
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _clip(f"*{escape(labels(k))}*\n{v}", 2000)}
                for k, v in fields[:10]
            ],
        }
    )
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": linked(note)}]})
    if not finished:
        buttons = labels.buttons(card_buttons(int(task.id)))
        blocks.append(actions(buttons, block_id=f"task-actions:{task.id}"))
    text = f"#{task.id} {task.title}" + (f" ({status})" if finished else "")
    text = plain_linked(f"{text} — {note}" if note else text)
    return SlackMessage(text=_clip(text, 4000), blocks=blocks)
