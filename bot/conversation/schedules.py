"""From a parsed intent to what the task service stores."""

from __future__ import annotations

from typing import Any

from core.intents.model import Intent, ParsedSchedule


def schedule_data(parsed: ParsedSchedule) -> dict[str, Any]:
    """The stored schedule (``core.schedule`` spec data) for a parsed schedule."""
    base: dict[str, Any] = {"timezone": parsed.timezone}
    if parsed.kind == "once":
        return {**base, "kind": "once", "at": parsed.at}
    if parsed.kind == "interval":
        return {**base, "kind": "interval", "every_seconds": parsed.every_seconds}
    if parsed.kind == "event":
        return {**base, "kind": "event", "event": parsed.event}
    if parsed.cron is not None:
        return {**base, "kind": "cron", "cron": parsed.cron}
    return {**base, "kind": "rrule", "rrule": parsed.rrule, "dtstart": parsed.dtstart}


def job_title(intent: Intent) -> str:
    """A title for a job the person did not name: what it does."""
    if intent.title:
        return intent.title
    action = intent.action or {}
    kind = action.get("type")
    detail = {
        "shell": action.get("command"),
        "http": f"{action.get('method', 'GET')} {action.get('url')}",
        "sql": action.get("query"),
        "ai_prompt": action.get("prompt"),
        "digest": "digest",
    }.get(str(kind))
    return str(detail or kind or "job")[:200]
