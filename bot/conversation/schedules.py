"""Naming what a parsed job does, when the person gave it no title."""

from __future__ import annotations

from core.intents.model import Intent


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
