"""What a task's card says, on every surface (Slack blocks, Discord embeds, the
Edit form): its schedule in words, and Kairos's own phrases on it (due, repeats,
next) with the labels of the task's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.conversation.labels import LabelSource, labels_of
from bot.formatting import when
from core.messages import Labels
from core.models import TaskPublic


def describe_schedule(schedule: dict[str, Any] | None, tz: str) -> str:
    """A short human description of a stored schedule (``core.schedule`` dump)."""
    if not schedule:
        return ""
    kind = schedule.get("kind")
    if kind == "once" and schedule.get("at"):
        at = schedule["at"]
        instant = datetime.fromisoformat(at) if isinstance(at, str) else at
        return f"once, {when(instant, tz)}"
    if kind == "interval" and schedule.get("every_seconds"):
        seconds = int(schedule["every_seconds"])
        unit = next((u for u in _UNITS if seconds % u[0] == 0), (1, "s"))
        return f"every {seconds // unit[0]} {unit[1]}"
    if kind == "cron":
        return f"cron {schedule.get('cron') or schedule.get('expression', '')}".strip()
    if kind == "rrule":
        return str(schedule.get("rrule", "")).removeprefix("RRULE:")
    if kind == "event":
        return f"on event {schedule.get('event', '')}"
    if kind == "mixed":
        return " or ".join(describe_schedule(p, tz) for p in schedule.get("parts", []))
    return str(kind or "")


_UNITS = ((86400, "d"), (3600, "h"), (60, "min"))


def card_phrases(task: TaskPublic, *, tz: str, now: datetime) -> dict[str, str]:
    """Kairos's own words on a task's card (Slack's and Discord's), by field: when it
    is due, how it repeats, its next fire. Translated with the labels for a task in
    another language (``bot.conversation.labels.labels_of``)."""
    finished = str(task.status) in {"done", "deleted"}
    phrases: dict[str, str] = {}
    if task.due is not None:
        phrases["Due"] = when(task.due, tz, now=now)
    repeat = describe_schedule(task.schedule, tz)
    if repeat:
        phrases["Repeats"] = repeat
    if task.next_fire_at is not None and not finished:
        phrases["Next"] = when(task.next_fire_at, tz, now=now)
    return phrases


async def card_labels(
    source: LabelSource | None, task: TaskPublic, *, tz: str, now: datetime
) -> Labels:
    """What a task's card (Slack's or Discord's) needs in its language: the catalog
    and the card's own phrases."""
    phrases = card_phrases(task, tz=tz, now=now).values()
    return await labels_of(source, task.language, task.workspace_id, phrases=phrases)
