"""Clocks: the system clock, and a manual one that makes time deterministic in tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class SystemClock:
    """Real time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to (``advance``/``set``).

    ``sleep`` returns as soon as the clock has been moved past the wake-up time,
    so code that sleeps until a deadline runs deterministically under test.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)
        self._moved.set()
        self._moved = asyncio.Event()

    def advance(self, delta: timedelta | float) -> None:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        self.set(self._now + step)

    async def sleep(self, seconds: float) -> None:
        deadline = self._now + timedelta(seconds=max(0.0, seconds))
        while self._now < deadline:
            await self._moved.wait()
