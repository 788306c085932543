"""Outbound Discord REST calls paced to Discord's limits: a bounded queue, not 429 storms.

discord.py already waits out each route's bucket (``X-RateLimit-*`` headers)
and retries a 429 after its ``retry_after``. What it does not do is keep a
burst under Discord's *global* limit (50 requests a second per bot): a
thousand reminders due at 09:00 would go out at once and come back as a storm
of global 429s. ``Outbox`` puts every call Kairos makes through one token
bucket (``rate`` a second, ``burst`` in hand) and at most ``max_in_flight``
concurrent requests; calls to one channel go one at a time in arrival order,
so messages keep their order and a channel's 5-per-5-seconds bucket is met by
waiting, not by 429s. When a 429 reaches Kairos anyway (discord.py gave up),
the whole outbox pauses for its ``retry_after`` and the call is tried again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import discord

from core.ports import Metrics, NullMetrics

log = logging.getLogger(__name__)

T = TypeVar("T")

_MAX_LANES = 10_000


class Outbox:
    """Paces one bot's REST calls (see the module docstring)."""

    def __init__(
        self,
        *,
        metrics: Metrics | None = None,
        rate: float = 40.0,
        burst: float = 10.0,
        max_in_flight: int = 32,
        max_rate_limited: int = 5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._report = (metrics or NullMetrics()).chat_call
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._now = monotonic
        self._stamp = monotonic()
        self._paused_until = 0.0
        self._bucket = asyncio.Lock()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._max_rate_limited = max_rate_limited
        self._lanes: dict[str, asyncio.Lock] = {}

    def _lane(self, channel: str) -> asyncio.Lock:
        lane = self._lanes.get(channel)
        if lane is None:
            if len(self._lanes) >= _MAX_LANES:
                for key, idle in list(self._lanes.items()):
                    if not idle.locked():
                        del self._lanes[key]
            lane = self._lanes[channel] = asyncio.Lock()
        return lane

    async def _turn(self) -> None:
        """Wait for a token of the global bucket (FIFO: one waiter refills at a time)."""
        async with self._bucket:
            while True:
                now = self._now()
                if self._paused_until > now:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
                self._stamp = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self._tokens) / self._rate)

    async def call(self, what: str, channel: str | None, send: Callable[[], Awaitable[T]]) -> T:
        """Run ``send`` (one REST call, named ``what`` in metrics) when the limits allow."""
        if channel is None:
            return await self._send(what, send)
        async with self._lane(channel):
            return await self._send(what, send)

    async def _send(self, what: str, send: Callable[[], Awaitable[T]]) -> T:
        limited = 0
        while True:
            await self._turn()
            try:
                async with self._slots:
                    result = await send()
            except discord.HTTPException as exc:
                if exc.status != 429 or limited + 1 >= self._max_rate_limited:
                    self._report("discord", what, "error")
                    raise
                limited += 1
                self._report("discord", what, "rate_limited")
                wait = _retry_after(exc)
                self._paused_until = max(self._paused_until, self._now() + wait)
                log.warning("Discord rate-limits %s: every call waits %.2f s", what, wait)
                continue
            self._report("discord", what, "ok")
            return result


def _retry_after(exc: discord.HTTPException) -> float:
    response = exc.response
    header = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else 1.0
    except ValueError:
        return 1.0
