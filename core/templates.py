"""Placeholders in what a task sends: ``{event}`` / ``{event.a.b}`` from the payload of
the event that started the run (HTTP requests, reminder texts)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from core.errors import InvalidInput

#: ``{name}`` or ``{dotted.name}``.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


def event_value(event: Mapping[str, Any] | None, name: str) -> str:
    """``{event}`` (the whole payload as JSON) or ``{event.a.b}`` (one value; JSON when
    it is not a scalar)."""
    if event is None:
        raise InvalidInput(
            f"The request uses {{{name}}}, but this run has no event payload "
            "(scheduled and manual runs have none).",
            hint="Use {event…} only in tasks started by an event trigger.",
        )
    value: Any = event
    for key in name.split(".")[1:]:
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        elif isinstance(value, tuple | list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            keys = ", ".join(map(str, value)) if isinstance(value, Mapping) else "no keys"
            raise InvalidInput(
                f"The request uses {{{name}}}, but the event payload has no {key!r} there "
                f"(it has: {keys}).",
                hint="Check the field names the event sends.",
            )
    if isinstance(value, str):
        return value
    return json.dumps(_json_ready(value), separators=(",", ":"), default=str)


def _json_ready(value: Any) -> Any:
    """The read-only payload back to JSON-able dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_json_ready(v) for v in value]
    return value


def fill_event(text: str, event: Mapping[str, Any] | None) -> str:
    """``text`` with its ``{event…}`` placeholders filled in from ``event``; one the
    payload cannot fill is left as written (a reminder is posted anyway)."""
    if event is None or "{" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name != "event" and not name.startswith("event."):
            return match.group(0)
        try:
            return event_value(event, name)
        except InvalidInput:
            return match.group(0)

    return PLACEHOLDER.sub(one, text)
