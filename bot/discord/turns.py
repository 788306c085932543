"""``Turns``: first responses before work, and a bound on the work at once.

When many interactions arrive together, each one's first response (the
deferral) is a small REST call, while the work behind it (database, the
conversation) is the bulk. Work waits while any interaction is still
waiting for its first response — at most ``patience`` seconds, so a steady
stream of interactions cannot starve it — then takes one of ``limit`` places.
So the 50th deferral of a burst is not queued behind the database work of
the first 49.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Turns:
    def __init__(self, *, limit: int, patience: float = 0.5) -> None:
        self._places = asyncio.Semaphore(limit)
        self._patience = patience
        self._answering = 0
        self._answered = asyncio.Event()
        self._answered.set()

    @contextlib.asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """Around sending an interaction's first response."""
        self._answering += 1
        self._answered.clear()
        try:
            yield
        finally:
            self._answering -= 1
            if not self._answering:
                self._answered.set()

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[None]:
        """Around the work behind an event, once first responses are out."""
        if not self._answered.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._patience):
                    await self._answered.wait()
        async with self._places:
            yield
