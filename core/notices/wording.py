"""What a notification says (pure): one sentence per rule, times in the reader's zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.notices.rules import Rule


def _when(at: datetime | None, tz: str) -> str:
    return "" if at is None else f"{at.astimezone(ZoneInfo(tz)):%a %d %b %H:%M}"


def _ahead(seconds: int) -> str:
    if seconds >= 86_400 and seconds % 86_400 == 0:
        days = seconds // 86_400
        return "1 day" if days == 1 else f"{days} days"
    hours, rest = divmod(seconds // 60, 60)
    if hours and not rest:
        return "1 hour" if hours == 1 else f"{hours} hours"
    return f"{seconds // 60} min"


def notice_text(
    rule: Rule,
    *,
    task_id: int,
    title: str,
    due: datetime | None,
    detail: dict[str, Any],
    tz: str,
) -> str:
    """One notification, e.g. "⏰ #4 'ship it' is due in 1 hour (Fri 27 Nov 17:00)"."""
    name = f"#{task_id} '{title}'"
    due_text = f" (due {_when(due, tz)})" if due else ""
    if rule is Rule.ASSIGNED:
        by = detail.get("by")
        return f"📌 {'@' + by + ' assigned' if by else 'You were assigned'} you {name}{due_text}."
    if rule is Rule.DUE_SOON:
        ahead = _ahead(int(detail.get("before_s", 0)))
        return f"⏰ {name} is due in {ahead} ({_when(due, tz)})."
    if rule is Rule.OVERDUE:
        return f"⚠️ {name} is overdue: it was due {_when(due, tz)}."
    if rule is Rule.AT_RISK:
        return (
            f"⚠️ {name} is at risk: it is due {_when(due, tz)}, and work like it takes "
            f"{detail.get('estimate', 'longer than the time left')}."
        )
    before = f"#{detail.get('prerequisite')} '{detail.get('prerequisite_title', '')}'"
    if rule is Rule.PREREQUISITE_DONE:
        return f"✅ {before} is done: {name} can go ahead."
    if rule is Rule.PREREQUISITE_FAILED:
        why = f" ({detail['error']})" if detail.get("error") else ""
        return f"❌ {before} failed{why}: {name} is waiting on it."
    summary = f": {detail['summary']}" if detail.get("summary") else ""
    if detail.get("workflow"):
        name = f"'{detail['workflow']}'"
    if rule is Rule.WORKFLOW_DONE:
        return f"🏁 Workflow {name} finished{summary}."
    return f"🛑 Workflow {name} failed{summary}."


#: The first line of a batch of notifications ({count}: how many).
BATCH_HEADER = "{count} notifications:"


def batch_text(lines: list[str], *, header: str = BATCH_HEADER) -> str:
    """Several notifications in one message; ``header`` may be in another language
    (the chat edge translates it), ``{count}`` is filled in here."""
    head = header.replace("{count}", str(len(lines)))
    return head + "\n" + "\n".join(f"• {line}" for line in lines)
