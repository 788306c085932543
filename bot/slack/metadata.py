"""Reminders tagged with Slack message metadata, and found again by a retry after a crash.

Each reminder post carries ``metadata = {event_type: "kairos_run", event_payload:
{run: <delivery key>}}`` (the key names the fire and its place, the same for
every attempt). A crashed attempt may have posted without living to record it;
its retry (``Reply.unless_posted``) reads the channel's recent history — or the
thread's replies — with ``include_all_metadata`` and posts only if no message
carries the key. Slack is then the record, not Kairos's database.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

EVENT_TYPE = "kairos_run"
#: How many recent messages are searched: a retry comes seconds after the crash.
SEARCH_LIMIT = 200


def tag(key: str) -> dict[str, Any]:
    """The ``metadata`` argument of ``chat.postMessage`` for a post with ``key``."""
    return {"event_type": EVENT_TYPE, "event_payload": {"run": key}}


def key_of(message: dict[str, Any]) -> str | None:
    """The delivery key a message carries, if it is one of Kairos's tagged posts."""
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return None
    payload = metadata.get("event_payload")
    run = payload.get("run") if isinstance(payload, dict) else None
    return run if isinstance(run, str) else None


async def find_posted(
    client: AsyncWebClient, *, channel: str, thread: str | None, key: str
) -> str | None:
    """The ``ts`` of a message in ``channel`` (or ``thread``) tagged ``key``, else ``None``.

    When the history cannot be read (a missing scope, Slack down) the answer is
    ``None``: the reminder is posted (at least once), and the log says why.
    """
    try:
        if thread:
            response = await client.conversations_replies(
                channel=channel, ts=thread, include_all_metadata=True, limit=SEARCH_LIMIT
            )
        else:
            response = await client.conversations_history(
                channel=channel, include_all_metadata=True, limit=SEARCH_LIMIT
            )
    except (SlackApiError, SlackRequestError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
        log.warning("could not look for an earlier post in %s (%s): posting", channel, error)
        return None
    for message in response.get("messages") or []:
        if isinstance(message, dict) and key_of(message) == key:
            return str(message.get("ts"))
    return None
