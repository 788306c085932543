"""The interfaces of Kairos (``typing.Protocol``), all in one place.

``core`` depends only on these; ``bot/`` and ``integrations/`` implement them.
Each section names the module that owns its implementation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from core.intents.model import Intent
from core.messages import Reply


@runtime_checkable
class Clock(Protocol):
    """Where "now" comes from (``core.clock.SystemClock`` / ``ManualClock``)."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class IntentParser(Protocol):
    """Turns what a person wrote into an ``Intent`` (``RuleParser``, later ``ClaudeParser``)."""

    def parse(self, text: str, *, now: datetime, tz: str, user: str = "me") -> Intent:
        """Parse ``text`` said at ``now`` by ``user`` whose time zone is ``tz``."""
        ...


class ChatAdapter(Protocol):
    """A chat surface Kairos can post to (console, Slack, Discord)."""

    async def send(self, reply: Reply) -> str | None:
        """Deliver ``reply`` to its channel/thread/user; return the message reference."""
        ...
