"""Outbound Slack Web API calls paced to Slack's rate limits: a queue, not 429 storms.

Slack limits ``chat.postMessage`` to about one message a second per channel
("short bursts above that allowed") and every other method by tier, per
workspace; over a limit it answers 429 with ``Retry-After``. slack_sdk's
``AsyncRateLimitErrorRetryHandler`` makes each call sleep out its *own* 429 and
retry, uncoordinated: a thousand concurrent calls earn a thousand 429s, and
after three it gives up and the message is lost.

``Pacer`` (one per workspace token) instead keeps a lane per channel: calls to a
channel go one at a time in arrival order (so messages keep their order), and
``chat.postMessage`` draws from a token bucket of ``channel_rate`` a second with
``channel_burst`` in hand. Calls to different channels run concurrently (up to
``max_in_flight``), so 1,000 reminders to 1,000 channels do not wait for each
other. Calls of other methods (opening a DM, reading a history for a crash
retry) have no order to keep and run concurrently: a lock there would put every
reminder that needs one behind the previous one's round trip. A 429 pauses the
whole lane (or, for a method with no channel lane, the whole method) until
``Retry-After`` has passed, then the same call is retried: at most one 429 per
limited channel reaches Slack (for other methods, at most the calls already in
flight when the first 429 came). When two different channels are limited
on the same method at once, the limit is the workspace's, and the whole method
pauses. Tier limits are not applied up front: Slack publishes them as minimums
("50+ per minute") with bursts allowed, so the first 429 is what paces a method.

``PacedWebClient`` is an ``AsyncWebClient`` whose every call (``api_call``, which
all of slack_sdk's methods go through) passes through a ``Pacer``, over the
kept-alive connections of one ``Connections`` pool: without a session of its
own, slack_sdk opens a new aiohttp session — a new TCP and TLS connection — for
every call.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from core.ports import Metrics, NullMetrics

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Methods whose calls to one channel share its lane (and so keep their order).
_CHANNEL_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete", "chat.scheduleMessage"}
)
#: Of those, the ones under Slack's "about one a second per channel" limit.
_PER_CHANNEL_PACED = frozenset({"chat.postMessage", "chat.scheduleMessage"})
#: Lanes kept before idle ones are forgotten (one per channel posted to).
_MAX_LANES = 10_000


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds Slack asked to wait, when ``exc`` is a 429 (else ``None``)."""
    response = exc.response
    if getattr(response, "status_code", None) != 429:
        return None
    headers: Mapping[str, Any] = getattr(response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0  # a 429 without a usable header: Slack's usual minimum


class _Lane:
    """One channel's (or one channel-less method's) queue and bucket."""

    __slots__ = ("burst", "lock", "paused_until", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.lock = asyncio.Lock()  # FIFO: waiters proceed in arrival order
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now
        self.paused_until = 0.0


class Pacer:
    """Paces one workspace's Web API calls (see the module docstring)."""

    def __init__(
        self,
        *,
        metrics: Metrics | None = None,
        channel_rate: float = 1.0,
        channel_burst: float = 3.0,
        max_in_flight: int = 256,
        max_rate_limited: int = 8,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # Bound once (cheap on the hot path; also keeps ``chat_call`` from reading
        # like a Web API method to the manifest test's scan of this folder).
        self._report = (metrics or NullMetrics()).chat_call
        self._rate = channel_rate
        self._burst = channel_burst
        self._slots = asyncio.Semaphore(max_in_flight)
        self._max_rate_limited = max_rate_limited
        self._now = monotonic
        self._lanes: dict[str, _Lane] = {}
        #: method → monotonic time until which all its calls wait (a workspace-wide 429).
        self._method_paused_until: dict[str, float] = {}
        #: method → the last channel limited on it, and until when.
        self._limited_channel: dict[str, tuple[str, float]] = {}

    def _count(self, method: str, outcome: str) -> None:
        self._report("slack", method, outcome)

    def _lane(self, key: str) -> _Lane:
        lane = self._lanes.get(key)
        if lane is None:
            if len(self._lanes) >= _MAX_LANES:
                self._forget_idle_lanes()
            lane = self._lanes[key] = _Lane(self._rate, self._burst, self._now())
        return lane

    def _forget_idle_lanes(self) -> None:
        """Drop lanes nobody waits on that are back to a full bucket (memory stays bounded)."""
        now = self._now()
        for key, lane in list(self._lanes.items()):
            refilled = lane.tokens + (now - lane.stamp) * lane.rate >= lane.burst
            if not lane.lock.locked() and lane.paused_until <= now and refilled:
                del self._lanes[key]

    async def call(self, method: str, channel: str | None, send: Callable[[], Awaitable[T]]) -> T:
        """Run ``send`` (one Web API call of ``method``) when the limits allow it."""
        if channel and method in _CHANNEL_METHODS:
            lane = self._lane(f"#{channel}")
            # One call at a time per channel: its messages keep their order.
            async with lane.lock:
                return await self._send(method, channel, lane, send)
        # Other calls (opening a DM, reading a channel's history, users.info…) have
        # no order to keep: they share the method's pause, never a turn.
        return await self._send(method, channel, self._lane(method), send)

    async def _send(
        self, method: str, channel: str | None, lane: _Lane, send: Callable[[], Awaitable[T]]
    ) -> T:
        paced = channel is not None and method in _PER_CHANNEL_PACED
        limited = 0
        while True:
            await self._wait_turn(method, lane, paced)
            try:
                async with self._slots:
                    result = await send()
            except SlackApiError as exc:
                wait = retry_after(exc)
                if wait is None:
                    self._count(method, "error")
                    raise
                self._count(method, "rate_limited")
                limited += 1
                self._limited(method, channel, lane, wait)
                if limited >= self._max_rate_limited:
                    raise
                continue
            except Exception:
                self._count(method, "error")
                raise
            self._count(method, "ok")
            return result

    async def _wait_turn(self, method: str, lane: _Lane, paced: bool) -> None:
        while True:
            now = self._now()
            until = max(lane.paused_until, self._method_paused_until.get(method, 0.0))
            if until > now:
                await asyncio.sleep(until - now)
                continue
            if not paced:
                return
            lane.tokens = min(lane.burst, lane.tokens + max(0.0, now - lane.stamp) * lane.rate)
            lane.stamp = now
            if lane.tokens >= 1.0:
                lane.tokens -= 1.0
                return
            await asyncio.sleep((1.0 - lane.tokens) / lane.rate)

    def _limited(self, method: str, channel: str | None, lane: _Lane, wait: float) -> None:
        now = self._now()
        # A little jitter so that lanes paused together do not come back together.
        until = now + wait + random.uniform(0.0, 0.25)
        lane.paused_until = max(lane.paused_until, until)
        # Slack's limit here is tighter than assumed: the lane slows down for
        # good (no bursts, 20 % slower) so that it does not meet the limit again.
        lane.burst = 1.0
        lane.rate = max(0.1, lane.rate * 0.8)
        lane.tokens, lane.stamp = 1.0, lane.paused_until  # the retry goes at the resume
        other, other_until = self._limited_channel.get(method, (None, 0.0))
        if channel is None or (other_until > now and other != channel):
            # No channel, or a second channel limited at once: the workspace's limit.
            self._method_paused_until[method] = max(
                self._method_paused_until.get(method, 0.0), until
            )
            log.warning("Slack rate-limits %s: pausing it for %.0f s", method, wait)
        else:
            self._limited_channel[method] = (channel, until)
            log.info("Slack rate-limits %s in %s: that channel waits %.0f s", method, channel, wait)


def _channel_of(kwargs: Mapping[str, Any]) -> str | None:
    for part in ("json", "data", "params"):
        body = kwargs.get(part)
        if isinstance(body, Mapping) and body.get("channel"):
            return str(body["channel"])
    return None


class Connections:
    """One aiohttp session, opened on first use, shared by the paced clients of a process.

    Its connections to Slack stay open between calls (at most ``limit`` at once,
    as many as a pacer lets be in flight); ``timeout`` is slack_sdk's default.
    """

    def __init__(self, *, limit: int = 256, timeout: float = 30.0) -> None:
        self._limit = limit
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class PacedWebClient(AsyncWebClient):
    """An ``AsyncWebClient`` whose every call waits its turn in a ``Pacer``.

    It has no 429 retry handler of its own: the pacer sees each 429, pauses
    the lane for everyone and retries in order. With ``connections`` its calls
    reuse that pool's kept-alive connections.
    """

    def __init__(
        self, *, pacer: Pacer, connections: Connections | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("retry_handlers", [AsyncConnectionErrorRetryHandler(max_retry_count=1)])
        super().__init__(**kwargs)
        self.pacer = pacer
        self._connections = connections

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        if self._connections is not None and (self.session is None or self.session.closed):
            self.session = self._connections.session()
        parent = super().api_call

        async def send() -> AsyncSlackResponse:
            return await parent(api_method, **kwargs)

        return await self.pacer.call(api_method, _channel_of(kwargs), send)
