"""A ``Conversation`` that records what reached it, delegating to a real one if given.

Transport tests (signatures, retries, dedupe, acks) assert on *whether* the
conversation layer was reached; what it answers is covered by the end-to-end
tests over the real ``ChatConversation``.
"""

from __future__ import annotations

import asyncio

from core.messages import Inbound, Reply
from core.ports import Conversation


class RecordingConversation:
    def __init__(self, inner: Conversation | None = None, *, delay: float = 0.0) -> None:
        self.inner = inner
        self.delay = delay
        self.handled: list[Inbound] = []
        self.pressed: list[tuple[Inbound, str, str]] = []

    async def handle(self, inbound: Inbound) -> list[Reply]:
        self.handled.append(inbound)
        await asyncio.sleep(self.delay)
        return await self.inner.handle(inbound) if self.inner else []

    async def press(self, inbound: Inbound, *, action: str, value: str) -> list[Reply]:
        self.pressed.append((inbound, action, value))
        await asyncio.sleep(self.delay)
        return await self.inner.press(inbound, action=action, value=value) if self.inner else []
