"""The application commands: ``/kairos``, ``/remind``, ``/task``, ``/tasks``, ``/done``,
``/timezone``.

Each is a sentence in disguise handed to the same conversation as a DM
(``/remind text:…`` is "remind …"), so nothing here decides what a task is.
Task-reference autocomplete offers the tasks a person can see; the chosen
value is only a suggestion — the conversation checks it again when the
command runs.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot.discord.listeners import Listeners

#: IANA zones offered by ``/timezone`` autocomplete, sorted once, with their lower case.
_ZONES = sorted(z for z in available_timezones() if "/" in z or z == "UTC")
_LOWER = [(z.lower(), z) for z in _ZONES]


def zone_choices(current: str, limit: int = 25) -> list[str]:
    """IANA zone names containing what was typed (case-insensitive), best first."""
    typed = current.strip().lower().replace(" ", "_")
    if not typed:
        return _ZONES[:limit]
    starts = [z for low, z in _LOWER if low.startswith(typed)]
    if len(starts) < limit:
        starts += [z for low, z in _LOWER if typed in low and not low.startswith(typed)]
    return starts[:limit]


def build_tree(tree: app_commands.CommandTree[Any], listeners: Listeners) -> None:
    """Register every Kairos command on ``tree`` (global; sync decides where they show)."""

    async def task_autocomplete(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        choices = await listeners.task_choices(interaction, current)
        return [app_commands.Choice(name=name, value=value) for name, value in choices]

    async def zone_autocomplete(
        _interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in zone_choices(current)]

    @tree.command(name="kairos", description="Tell Kairos what should happen, in plain words")
    @app_commands.describe(text="e.g. remind me tomorrow at 9 to send the report")
    async def kairos(interaction: discord.Interaction[Any], text: str) -> None:
        await listeners.on_command(interaction, text)

    @tree.command(name="remind", description="Set a reminder")
    @app_commands.describe(text="who, when and what: me tomorrow at 9 to call Bo")
    async def remind(interaction: discord.Interaction[Any], text: str) -> None:
        await listeners.on_command(interaction, f"remind {text}")

    @tree.command(name="task", description="Add a task")
    @app_commands.describe(text="e.g. review the launch plan by Friday @bob")
    async def task(interaction: discord.Interaction[Any], text: str) -> None:
        await listeners.on_command(interaction, f"add task {text}")

    @tree.command(name="tasks", description="List tasks")
    @app_commands.describe(which="e.g. overdue, this week, @bob's (default: yours)")
    async def tasks(interaction: discord.Interaction[Any], which: str = "") -> None:
        await listeners.on_command(interaction, f"list {which or 'my'} tasks")

    @tree.command(name="done", description="Mark a task done")
    @app_commands.describe(task="the task (start typing its number or title)")
    @app_commands.autocomplete(task=task_autocomplete)
    async def done(interaction: discord.Interaction[Any], task: str) -> None:
        ref = task.strip().lstrip("#")
        await listeners.on_command(interaction, f"mark {ref} as done")

    @tree.command(name="timezone", description="Set your time zone (or the server's default)")
    @app_commands.describe(
        zone="an IANA zone such as Europe/Berlin",
        server="set the server's default instead (admins)",
    )
    @app_commands.autocomplete(zone=zone_autocomplete)
    async def timezone(
        interaction: discord.Interaction[Any], zone: str, server: bool = False
    ) -> None:
        await listeners.set_timezone(interaction, zone, server=server)
