"""Neutral ``Reply`` → a Discord message (pure functions, no I/O).

``render(reply)`` and ``task_card(task, …)`` give a ``DiscordMessage``: the
content (at most 2,000 characters; longer text goes as an attachment with a
cut shown inline), embeds within Discord's limits, and the buttons (which
``bot.discord.components`` turns into persistent ``DynamicItem`` buttons).
Neutral mentions (``@<id>``, ``#<id>``, ``core.mentions``) become Discord's
``<@id>`` and ``<#id>``; nothing here may ping ``@everyone`` — the adapter
sends every message with ``allowed_mentions`` limited to the people named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import discord

from bot.cards import card_phrases
from bot.conversation.replies import task_buttons
from core.messages import ENGLISH, Attachment, Button, Labels, Reply, ReplyKind
from core.models import TaskPublic

# Discord's documented limits.
MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_EMBED_TOTAL = 6000
MAX_BUTTONS = 25
#: Task lines shown in a list embed before "…and N more".
MAX_LIST_TASKS = 25

_PERSON = re.compile(r"(?<![\w<])@(\d{15,21})\b")
_PLACE = re.compile(r"(?<![\w<])#(\d{15,21})\b")
_COLOURS = {
    ReplyKind.CONFIRMATION: discord.Colour.green(),
    ReplyKind.REMINDER: discord.Colour.gold(),
    ReplyKind.ERROR: discord.Colour.red(),
    ReplyKind.QUESTION: discord.Colour.blurple(),
}


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """What ``Messageable.send``/``Message.edit`` take, within Discord's limits."""

    content: str
    embeds: tuple[discord.Embed, ...] = ()
    buttons: tuple[Button, ...] = ()
    file: Attachment | None = None
    #: Platform user ids this message may ping (never roles, never @everyone).
    pings: tuple[str, ...] = field(default=())


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mentions_out(text: str) -> str:
    """Neutral mentions of people and channels in Discord's syntax."""
    return _PLACE.sub(r"<#\1>", _PERSON.sub(r"<@\1>", text))


def people_in(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_PERSON.findall(text)))


def _who(ref: str) -> str:
    return f"<@{ref}>" if ref.isdigit() else f"@{ref}"


def content_of(
    text: str, attachment: Attachment | None = None, labels: Labels = ENGLISH
) -> tuple[str, Attachment | None]:
    """Text for ``content``: whole when it fits, else a cut plus the whole as a file."""
    text = mentions_out(text or "…")
    if len(text) <= MAX_CONTENT:
        return text, attachment
    note = "\n… " + labels("(cut; the full text is attached)")
    return text[: MAX_CONTENT - len(note)] + note, attachment or Attachment(
        filename="kairos-reply.txt", content=text
    )


def embed_size(embed: discord.Embed) -> int:
    return len(embed)


def _fit(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields until the embed is within Discord's 6,000-character total."""
    while len(embed) > MAX_EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > MAX_EMBED_TOTAL and embed.description:
        room = max(1, MAX_EMBED_TOTAL - (len(embed) - len(embed.description)))
        embed.description = clip(embed.description, room)
    return embed


def buttons_for(reply: Reply) -> tuple[Button, ...]:
    """The reply's own buttons; a confirmation or reminder about a live task gets the card
    set (in the reply's language)."""
    if reply.buttons:
        return reply.buttons[:MAX_BUTTONS]
    finished = reply.fields.get("status", "").lower() in {"done", "deleted"}
    if (
        reply.task_id is not None
        and reply.kind in (ReplyKind.CONFIRMATION, ReplyKind.REMINDER)
        and not finished
    ):
        return reply.labels.buttons(task_buttons(reply.task_id, reminder=True))
    return ()


def render(reply: Reply) -> DiscordMessage:
    """One reply: its text as content; a task list or fields as an embed."""
    embeds: list[discord.Embed] = []
    text = reply.text
    if reply.kind == ReplyKind.TASK_LIST and reply.tasks:
        head, lines = (reply.text.splitlines() or ["Tasks"])[0], []
        for line in reply.tasks[:MAX_LIST_TASKS]:
            details = [d for d in (line.when, line.status, line.priority) if d]
            if line.assignees:
                details.append(", ".join(_who(a) for a in line.assignees))
            mark = "🔴 " if line.overdue else ""
            lines.append(
                f"{mark}**#{line.task_id}** {line.title}"
                + (f" · {' · '.join(details)}" if details else "")
            )
        if len(reply.tasks) > MAX_LIST_TASKS:
            more = len(reply.tasks) - MAX_LIST_TASKS
            lines.append(reply.labels.fill("…and {count} more", count=more))
        embeds.append(
            _fit(
                discord.Embed(
                    title=clip(head, MAX_TITLE),
                    description=clip(mentions_out("\n".join(lines)), MAX_DESCRIPTION),
                )
            )
        )
        text = head
    elif shown := reply.shown_fields:
        embed = discord.Embed(colour=_COLOURS.get(reply.kind))
        for name, value in list(shown.items())[:MAX_FIELDS]:
            embed.add_field(
                name=clip(name, MAX_FIELD_NAME),
                value=clip(mentions_out(value) or "—", MAX_FIELD_VALUE),
            )
        embeds.append(_fit(embed))
    content, file = content_of(text, reply.attachment, reply.labels)
    return DiscordMessage(
        content=content,
        embeds=tuple(embeds),
        buttons=buttons_for(reply),
        file=file,
        pings=people_in(reply.text),
    )


def task_card(
    task: TaskPublic, *, tz: str, now: datetime, note: str = "", labels: Labels = ENGLISH
) -> DiscordMessage:
    """The embed that stands for a task, with Done / Snooze / Run now / Edit.

    Its message id is the task's ``thread_ref`` (a thread started from it has the
    same id); it is edited in place whenever the task changes. ``labels``: its field
    names and buttons in the language of the task (``bot.conversation.labels``).
    """

    def name(english: str) -> str:
        return clip(labels(english), MAX_FIELD_NAME)

    status = str(task.status)
    finished = status in {"done", "deleted"}
    title = clip(f"#{task.id} {task.title}", MAX_TITLE)
    embed = discord.Embed(
        title=f"~~{clip(title, MAX_TITLE - 4)}~~" if finished else title,
        colour=discord.Colour.light_grey() if finished else discord.Colour.blurple(),
    )
    if finished:
        embed.description = labels(status)
    phrases = {k: labels(v) for k, v in card_phrases(task, tz=tz, now=now).items()}
    if task.due is not None:
        overdue = not finished and task.due < now
        embed.add_field(name=name("Due"), value=phrases["Due"] + (" 🔴" if overdue else ""))
    if "Repeats" in phrases:
        embed.add_field(name=name("Repeats"), value=clip(phrases["Repeats"], MAX_FIELD_VALUE))
    if "Next" in phrases:
        embed.add_field(name=name("Next"), value=phrases["Next"])
    if task.assignees:
        people = ", ".join(_who(a) for a in task.assignees)
        embed.add_field(name=name("Assignees"), value=clip(people, MAX_FIELD_VALUE))
    embed.add_field(name=name("Priority"), value=labels(str(task.priority)))
    if note:
        embed.set_footer(text=clip(note, MAX_FOOTER))
    content = f"#{task.id} {task.title}" + (f" ({status})" if finished else "")
    return DiscordMessage(
        content=clip(content, MAX_CONTENT),
        embeds=(_fit(embed),),
        buttons=() if finished else labels.buttons(task_buttons(int(task.id), reminder=True)),
    )
