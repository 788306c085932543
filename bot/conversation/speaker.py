"""Who is speaking and where, and the scheduler operations the conversation reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.messages import Inbound, Reply
from core.models import Member, Run


class Runner(Protocol):
    """The scheduler operations the conversation uses (``core.scheduler.Scheduler``)."""

    async def run_now(self, task_id: int) -> object: ...

    async def run_at(self, task_id: int, when: datetime) -> object: ...

    async def history(self, task_id: int, *, limit: int = 50) -> Sequence[Run]: ...


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who is talking, where, and in which time zone."""

    member: Member
    workspace_id: int
    tz: str
    place: str
    inbound: Inbound
    #: The language the message was read in (ISO 639-1; only Claude reads others).
    language: str = "en"

    @property
    def person(self) -> str:
        return self.member.platform_user_id

    @property
    def in_channel(self) -> bool:
        return not self.inbound.is_direct and self.inbound.channel_ref is not None


class Asked(Exception):
    """Resolving a task needs the person to pick or confirm first: these replies ask."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply
