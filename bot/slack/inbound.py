"""Slack payloads → the neutral ``Inbound`` (pure functions, no I/O).

Each function takes the dict Slack sent (as bolt hands it over) and what the
adapter already knows about the person (time zone, name) and returns an
``Inbound``, or ``None`` when Kairos must not act on it. Raw dicts stop here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.enums import Platform
from core.messages import Inbound

Payload = Mapping[str, Any]

#: Message subtypes that are still a person talking to Kairos. Everything else
#: (edits, deletes, joins, bot_message, channel topic changes, …) is ignored.
ACTIONABLE_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")


def plain_text(text: str, *, bot_user_id: str | None = None) -> str:
    """Slack's wire text as a person wrote it.

    ``<@U1>`` → ``@U1`` (the parser takes user ids as assignees), ``<#C1|x>`` →
    ``#C1`` (a channel id can be posted to, a name cannot), links lose their
    label, the bot's own mention is dropped and ``&lt;`` etc. are unescaped.
    """
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _USER.sub(r"@\1", text)
    text = _CHANNEL.sub(r"#\1", text)
    text = _LINK.sub(r"\1", text)
    text = _SPECIAL.sub(r"@\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def is_own_or_noise(event: Payload, *, bot_user_id: str | None, bot_id: str | None) -> bool:
    """True for messages Kairos must not act on: its own, other bots', edits, joins…"""
    if event.get("subtype") not in ACTIONABLE_SUBTYPES:
        return True
    if event.get("bot_id") or event.get("bot_profile"):
        return True
    user = event.get("user")
    if not user or (bot_user_id and user == bot_user_id):
        return True
    return bool(bot_id and event.get("bot_id") == bot_id)


def thread_of(event: Payload) -> str | None:
    """The thread a message is a reply in (its parent's ``ts``), else ``None``."""
    thread_ts = event.get("thread_ts")
    if thread_ts and thread_ts != event.get("ts"):
        return str(thread_ts)
    return None


def mentions(event: Payload, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}" in str(event.get("text", ""))


def message_to_inbound(
    event: Payload,
    *,
    team_id: str,
    bot_user_id: str | None,
    user_timezone: str | None = None,
    user_name: str = "",
) -> Inbound:
    """A ``message`` or ``app_mention`` event (DM, mention, or thread reply)."""
    channel = event.get("channel")
    return Inbound(
        platform=Platform.SLACK,
        workspace_ref=team_id,
        user_ref=str(event["user"]),
        text=plain_text(str(event.get("text", "")), bot_user_id=bot_user_id),
        channel_ref=str(channel) if channel else None,
        thread_ref=thread_of(event),
        message_ref=str(event["ts"]) if event.get("ts") else None,
        is_direct=event.get("channel_type") == "im" or str(channel or "").startswith("D"),
        user_name=user_name,
        user_timezone=user_timezone,
    )


def command_to_inbound(
    body: Payload,
    *,
    user_timezone: str | None = None,
    user_name: str = "",
    sent_at: datetime | None = None,
) -> Inbound:
    """A ``/kairos …`` slash command (form fields as bolt parses them)."""
    channel = str(body.get("channel_id") or "")
    return Inbound(
        platform=Platform.SLACK,
        workspace_ref=str(body["team_id"]),
        user_ref=str(body["user_id"]),
        text=plain_text(str(body.get("text", ""))),
        channel_ref=channel or None,
        is_direct=channel.startswith("D") or body.get("channel_name") == "directmessage",
        user_name=user_name or str(body.get("user_name", "")),
        user_timezone=user_timezone,
        sent_at=sent_at,
    )


@dataclass(frozen=True, slots=True)
class Press:
    """A button press: who, where, which action on what, and the message it was on."""

    inbound: Inbound
    action: str
    value: str
    message_ts: str | None
    channel: str | None
    on_home: bool


def action_name(action_id: str) -> str:
    """``task.snooze#2`` → ``task.snooze`` (see ``contract.ACTION_ID_PATTERN``)."""
    return action_id.split("#", 1)[0]


def team_of(body: Payload) -> str:
    """The workspace a payload came from (interactivity, events, commands differ)."""
    team = body.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    if body.get("team_id"):
        return str(body["team_id"])
    user = body.get("user")
    if isinstance(user, Mapping) and user.get("team_id"):
        return str(user["team_id"])
    raise ValueError("payload names no workspace")


def action_to_press(
    body: Payload, *, user_timezone: str | None = None, user_name: str = ""
) -> Press:
    """A ``block_actions`` payload with one button action."""
    action = body["actions"][0]
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    message_ts = container.get("message_ts") or message.get("ts")
    user = body["user"]
    inbound = Inbound(
        platform=Platform.SLACK,
        workspace_ref=team_of(body),
        user_ref=str(user["id"]),
        text="",
        channel_ref=str(channel) if channel else None,
        thread_ref=str(message_ts) if message_ts else None,
        message_ref=str(message_ts) if message_ts else None,
        is_direct=str(channel or "").startswith("D"),
        user_name=user_name or str(user.get("name") or user.get("username") or ""),
        user_timezone=user_timezone,
    )
    return Press(
        inbound=inbound,
        action=action_name(str(action["action_id"])),
        value=str(action.get("value", "")),
        message_ts=str(message_ts) if message_ts else None,
        channel=str(channel) if channel else None,
        on_home=container.get("type") == "view",
    )


def user_inbound(body: Payload, *, text: str = "", user_timezone: str | None = None) -> Inbound:
    """Who sent an interactive payload (shortcut, view submission) as an ``Inbound``."""
    user = body["user"]
    channel = (body.get("channel") or {}).get("id")
    return Inbound(
        platform=Platform.SLACK,
        workspace_ref=team_of(body),
        user_ref=str(user["id"]),
        text=text,
        channel_ref=str(channel) if channel else None,
        user_name=str(user.get("name") or user.get("username") or ""),
        user_timezone=user_timezone,
    )
