"""Persistent buttons and the Edit modal.

Every button's ``custom_id`` carries its action and value
(``kairos:task.snooze:12:60``) and is matched by the ``TaskButton``
``DynamicItem`` template, registered on the client at start: a card posted
weeks ago still works after any number of restarts, because nothing about it
lives in process memory. The modal's ``custom_id`` names its task the same way
(``kairos-edit:12``) and is read back from the submission, not from a
``Modal`` object kept in memory.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Any, Protocol

import discord

from bot.slack.modals import TaskForm
from core.messages import Button

#: ``kairos:<action>:<value>``; Discord allows 100 characters.
BUTTON_TEMPLATE = r"kairos:(?P<action>[a-z][a-z.]{0,30}):(?P<value>[0-9A-Za-z:_-]{1,60})"
EDIT_PREFIX = "kairos-edit:"
EDIT_ACTION = "task.edit"
#: The modal's inputs (Discord allows five).
TITLE, DUE, SCHEDULE, ASSIGNEES, PRIORITY = "title", "due", "schedule", "assignees", "priority"

_STYLES = {"task.done": discord.ButtonStyle.success, "task.reopen": discord.ButtonStyle.secondary}


class Presses(Protocol):
    """What a pressed button calls (``bot.discord.listeners.Listeners``)."""

    def on_button(
        self, interaction: discord.Interaction[Any], action: str, value: str
    ) -> Awaitable[None]: ...


class TaskButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_TEMPLATE):
    """One button of a card or reminder, rebuilt from its ``custom_id`` on every press."""

    def __init__(self, action: str, value: str, *, label: str = "…") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=_STYLES.get(action, discord.ButtonStyle.primary),
                custom_id=f"kairos:{action}:{value}"[:100],
            )
        )
        self.action = action
        self.value = value

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> TaskButton:
        label = getattr(item, "label", None) or "…"
        return cls(match["action"], match["value"], label=label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        presses: Presses | None = getattr(interaction.client, "presses", None)
        if presses is not None:
            await presses.on_button(interaction, self.action, self.value)


def view_for(buttons: tuple[Button, ...]) -> discord.ui.View | None:
    """A view of persistent buttons (five to a row), or ``None`` without buttons."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for index, button in enumerate(buttons[:25]):
        item = TaskButton(button.action, button.value or "0", label=button.label)
        item.item.row = index // 5
        view.add_item(item)
    return view


def edit_modal(form: TaskForm) -> discord.ui.Modal:
    """The Edit modal, filled with the task's current fields."""
    modal = discord.ui.Modal(
        title=f"Edit #{form.task_id}"[:45], custom_id=f"{EDIT_PREFIX}{form.task_id}", timeout=None
    )
    inputs = (
        (TITLE, "Title", form.title, True, "What needs doing"),
        (DUE, "Due / when", form.due, False, "tomorrow 17:00, 2026-03-05 09:00"),
        (SCHEDULE, "Repeats", form.schedule, False, "every weekday at 9:00"),
        (ASSIGNEES, "Assignees", " ".join(f"<@{a}>" for a in form.assignees), False, "<@id> …"),
        (PRIORITY, "Priority", form.priority, True, "low, normal, high or urgent"),
    )
    for custom_id, label, value, required, hint in inputs:
        modal.add_item(
            discord.ui.TextInput(
                label=label,
                custom_id=custom_id,
                default=value[:4000] or None,
                required=required,
                placeholder=hint[:100],
                max_length=500 if custom_id == TITLE else 200,
            )
        )
    return modal


def task_of_modal(custom_id: str) -> int | None:
    """The task an Edit modal submission is about, from its ``custom_id``."""
    if not custom_id.startswith(EDIT_PREFIX):
        return None
    number = custom_id.removeprefix(EDIT_PREFIX)
    return int(number) if number.isdigit() else None


def read_modal(data: dict[str, Any], task_id: int, *, shown: TaskForm | None = None) -> TaskForm:
    """A modal submission's ``data`` (as Discord sends it) as a ``TaskForm``."""
    values: dict[str, str] = {}
    for row in data.get("components", []):
        for component in row.get("components", [row.get("component") or {}]):
            if component.get("custom_id"):
                values[str(component["custom_id"])] = str(component.get("value") or "").strip()
    people = tuple(re.findall(r"<@!?(\d{1,21})>|@?(\d{15,21})", values.get(ASSIGNEES, "")))
    return TaskForm(
        title=values.get(TITLE, ""),
        due=values.get(DUE, ""),
        schedule=values.get(SCHEDULE, ""),
        assignees=tuple(a or b for a, b in people),
        priority=values.get(PRIORITY, "normal").lower() or "normal",
        task_id=task_id,
        extra=dict(shown.extra) if shown is not None else {},
    )
