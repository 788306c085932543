"""Discord messages and interactions → the neutral ``Inbound`` (pure functions, no I/O).

``said(...)`` (in ``bot.discord.bot``) copies what Kairos needs from a discord.py
``Message`` into a ``Said``; ``to_inbound`` turns that into an ``Inbound``.
Discord's mention syntax stops here: ``<@id>``/``<@!id>`` become ``@id``,
``<#id>`` becomes ``#id`` (the neutral form of ``core.mentions``), a role
mention ``<@&id>`` becomes the role's name as a plain word (a role is not a
person a task can be assigned to), custom emoji are dropped and
``@everyone``/``@here`` lose their ``@``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.enums import Platform
from core.mentions import person, place
from core.messages import Inbound

#: The workspace a DM belongs to when Kairos cannot tell which server is meant.
DM_WORKSPACE = "dm"

_USER = re.compile(r"<@!?(\d{1,21})>")
_CHANNEL = re.compile(r"<#(\d{1,21})>")
_ROLE = re.compile(r"<@&(\d{1,21})>")
_EMOJI = re.compile(r"<a?:\w{1,40}:\d{1,21}>")
_TIMESTAMP = re.compile(r"<t:(-?\d{1,13})(?::[tTdDfFsSR])?>")
_SUPPRESSED_LINK = re.compile(r"<((?:https?|mailto):[^\s>]{1,2000})>")
_BROADCAST = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True, slots=True)
class Said:
    """What Kairos reads from one Discord message."""

    author_id: str
    author_name: str
    content: str
    channel_id: str
    message_id: str
    guild_id: str | None = None
    #: When said in a thread: the channel the thread belongs to.
    parent_id: str | None = None
    author_is_bot: bool = False


def plain_text(
    content: str, *, bot_user_id: str | None = None, roles: Mapping[str, str] | None = None
) -> str:
    """Discord's wire text as the neutral text ``core/`` reads (see the module docstring)."""
    if bot_user_id:
        content = re.sub(rf"<@!?{re.escape(bot_user_id)}>", " ", content)
    content = _USER.sub(lambda m: person(m.group(1)), content)
    content = _CHANNEL.sub(lambda m: place(m.group(1)), content)
    content = _ROLE.sub(lambda m: (roles or {}).get(m.group(1), "role"), content)
    content = _EMOJI.sub(" ", content)
    content = _SUPPRESSED_LINK.sub(r"\1", content)
    content = _BROADCAST.sub(r"\1", content)
    return " ".join(content.split())


def mentions_bot(content: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and re.search(rf"<@!?{bot_user_id}>", content) is not None


def to_inbound(
    message: Said,
    *,
    bot_user_id: str | None,
    dm_workspace: str = DM_WORKSPACE,
    user_timezone: str | None = None,
    roles: Mapping[str, str] | None = None,
) -> Inbound:
    """A DM, a mention in a channel, or a reply in a task's thread.

    In a thread, ``channel_ref`` is the thread's parent and ``thread_ref`` the
    thread (whose id is the id of the card message it was started from).
    """
    in_thread = message.parent_id is not None
    return Inbound(
        platform=Platform.DISCORD,
        workspace_ref=message.guild_id or dm_workspace,
        user_ref=message.author_id,
        text=plain_text(message.content, bot_user_id=bot_user_id, roles=roles),
        channel_ref=message.parent_id if in_thread else message.channel_id,
        thread_ref=message.channel_id if in_thread else None,
        message_ref=message.message_id,
        is_direct=message.guild_id is None,
        user_name=message.author_name,
        user_timezone=user_timezone,
    )


def command_to_inbound(
    *,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str | None,
    guild_id: str | None,
    parent_id: str | None = None,
    dm_workspace: str = DM_WORKSPACE,
    user_timezone: str | None = None,
) -> Inbound:
    """An application command or a button press (``text`` empty for a press)."""
    in_thread = parent_id is not None
    return Inbound(
        platform=Platform.DISCORD,
        workspace_ref=guild_id or dm_workspace,
        user_ref=user_id,
        text=plain_text(text),
        channel_ref=parent_id if in_thread else channel_id,
        thread_ref=channel_id if in_thread else None,
        is_direct=guild_id is None,
        user_name=user_name,
        user_timezone=user_timezone,
    )
