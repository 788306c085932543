"""Neutral ``Reply`` → Block Kit (pure functions, no I/O).

``render(reply)`` gives the ``text`` (always a complete fallback, used by
notifications and screen readers) and the ``blocks`` of a Slack message. Task
cards carry the Done / Snooze / Run now / Edit buttons; the same builders feed
the App Home view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.slack import contract
from core.messages import Button, Reply, ReplyKind, TaskLine

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
    """The reply's own buttons; a task card or fired reminder gets the standard set.

    A card for a finished task (``fields['status']`` done/deleted) gets none.
    """
    if reply.buttons:
        return reply.buttons
    finished = reply.fields.get("status", "").lower() in {"done", "deleted"}
    if (
        reply.task_id is not None
        and reply.kind in (ReplyKind.CONFIRMATION, ReplyKind.REMINDER)
        and not finished
    ):
        return card_buttons(reply.task_id)
    return ()


def task_line_text(line: TaskLine) -> str:
    parts = [f"*#{line.task_id}* {escape(line.title)}"]
    details = [d for d in (line.when, line.status, line.priority) if d]
    if line.assignees:
        details.append(", ".join(_who(a) for a in line.assignees))
    if details:
        parts.append(" · ".join(escape(d) if not d.startswith("<@") else d for d in details))
    text = "\n".join(parts)
    return f":red_circle: {text}  _overdue_" if line.overdue else text


def _who(ref: str) -> str:
    # Assignees are Slack user ids when Kairos knows them; mention those.
    return f"<@{ref}>" if ref[:1] in {"U", "W"} and ref.isalnum() and ref.isupper() else ref


def task_line_blocks(line: TaskLine, *, with_buttons: bool) -> list[Block]:
    block = section(task_line_text(line))
    block["block_id"] = f"task:{line.task_id}"
    if not with_buttons:
        return [block]
    return [block, actions(card_buttons(line.task_id)[:3], block_id=f"task-actions:{line.task_id}")]


_ICONS = {
    ReplyKind.CONFIRMATION: ":white_check_mark:",
    ReplyKind.REMINDER: ":alarm_clock:",
    ReplyKind.ERROR: ":warning:",
    ReplyKind.QUESTION: ":thinking_face:",
}


def render(reply: Reply) -> SlackMessage:
    """Block Kit for one reply; ``text`` stays the reply's complete plain text."""
    icon = _ICONS.get(reply.kind)
    head = escape(reply.text if reply.kind != ReplyKind.TASK_LIST or not reply.tasks
                  else reply.text.splitlines()[0] if reply.text else "Tasks")
    blocks: list[Block] = [section(f"{icon} {head}" if icon else head)]
    if reply.task_id is not None:
        blocks[0]["block_id"] = f"task:{reply.task_id}"
    if reply.fields:
        fields = [
            {"type": "mrkdwn", "text": _clip(f"*{escape(k)}*\n{escape(v)}", 2000)}
            for k, v in list(reply.fields.items())[:10]
        ]
        blocks.append({"type": "section", "fields": fields})
    if reply.kind == ReplyKind.TASK_LIST and reply.tasks:
        for line in reply.tasks[:MAX_LIST_TASKS]:
            blocks.extend(task_line_blocks(line, with_buttons=False))
        if len(reply.tasks) > MAX_LIST_TASKS:
            more = len(reply.tasks) - MAX_LIST_TASKS
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"…and {more} more"}]}
            )
    buttons = buttons_for(reply)
    if buttons:
        block_id = f"task-actions:{reply.task_id}" if reply.task_id is not None else None
        blocks.append(actions(buttons, block_id=block_id))
    return SlackMessage(text=_clip(reply.text or "…", 4000), blocks=blocks)
