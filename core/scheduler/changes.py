"""``ChangeWatcher``: task changes committed by any process reach this engine.

Two paths feed ``engine.tasks_changed`` (see ``core.store.changes`` for the
write side):

* on PostgreSQL a LISTEN connection hears one NOTIFY per committing
  transaction (its task ids, or ``rescan``) within milliseconds;
* every ``rescan_seconds`` a cheap indexed query asks for tasks whose
  ``change_seq`` passed the mark: SQLite's only path (a ``kairos tasks add``
  beside ``kairos run``), and PostgreSQL's safety net for notifications lost
  while the connection was down.

Sequence values are taken before commit, so a transaction may commit a value
below one already seen. The rescan therefore re-reads an overlap window (the
values seen in the last ``overlap_seconds``) and forwards only ``(id, value)``
pairs it has not forwarded yet.

The three loops (listener, rescan, hand-over to the engine) back off on
database errors like the engine does (``core.scheduler.outage``). They time
themselves on the real clock: propagation is about wall time, not about the
engine's (possibly simulated) schedule clock.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from core.clock import SystemClock
from core.ports import Clock, Metrics, NullMetrics
from core.scheduler.outage import Outage, Probe
from core.scheduler.waiting import sleep_or_event
from core.store.changes import ChangeFeed, Listening, parse_payload

log = logging.getLogger(__name__)

#: How often the rescan runs (its query costs well under a millisecond, see BENCHMARKS).
RESCAN_SECONDS = 0.5
#: How long a transaction may sit between taking its sequence value and committing
#: and still be picked up by the rescan.
OVERLAP_SECONDS = 10.0
#: How often an idle LISTEN connection is checked (a half-open TCP connection is silent).
PING_SECONDS = 15.0
#: Rows per rescan page.
PAGE = 5000


class ChangeTarget(Protocol):
    """What the watcher feeds: ``SchedulerEngine.tasks_changed``."""

    async def tasks_changed(self, task_ids: Sequence[int]) -> None: ...


class ChangeWatcher:
    """Feeds changes committed elsewhere into an engine (NOTIFY + rescan).

    Call ``prime()`` before the engine loads its tasks (so nothing committed in
    between is missed), ``start()`` after, ``stop()`` before stopping the engine.
    """

    def __init__(
        self,
        *,
        feed: ChangeFeed,
        target: ChangeTarget,
        metrics: Metrics | None = None,
        timer: Clock | None = None,
        rescan_seconds: float = RESCAN_SECONDS,
        overlap_seconds: float = OVERLAP_SECONDS,
        ping_seconds: float = PING_SECONDS,
        rng: random.Random | None = None,
        name: str = "kairos-changes",
        probe: Probe | None = None,
    ) -> None:
        self._feed = feed
        self._target = target
        self._timer = timer or SystemClock()
        self._rescan_seconds = rescan_seconds
        self._overlap = overlap_seconds
        self._ping_seconds = ping_seconds
        self._name = name
        metrics = metrics or NullMetrics()
        rng = rng or random.Random()
        parts = ("listener", "rescan", "changes")
        #: Set by the probe when the database answers again: a loop backing off retries at once.
        self._back = {part: asyncio.Event() for part in parts}
        self._outages = {
            part: Outage(
                f"engine-{part}",
                logger=log,
                metrics=metrics,
                rng=rng,
                probe=probe,
                on_back=self._back[part].set,
            )
            for part in parts
        }
        self._stop = asyncio.Event()
        self._apply_kick = asyncio.Event()
        self._rescan_kick = asyncio.Event()
        self._pending: set[int] = set()
        self._floor = 0  # rescans ask for change_seq > floor
        self._high = 0  # the largest value seen
        self._marks: deque[tuple[float, int]] = deque()  # (when, high) for the overlap
        self._forwarded: dict[int, int] = {}  # task id → the change_seq last forwarded
        self._tasks: list[asyncio.Task[None]] = []
        #: Changes handed to the engine so far (for tests and status displays).
        self.forwarded = 0
        #: Whether a LISTEN connection is open right now (PostgreSQL).
        self.listening = False

    # --- lifecycle ----------------------------------------------------------

    async def prime(self) -> None:
        """Take the current high mark: later changes are the ones to watch."""
        self._floor = self._high = await self._feed.high_mark()
        self._marks.clear()

    async def start(self) -> None:
        """Start the loops (one named asyncio task each)."""
        if self._tasks:
            return
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self._apply_loop(), name=f"{self._name}-apply"),
            asyncio.create_task(self._rescan_loop(), name=f"{self._name}-rescan"),
        ]
        if self._feed.notifies:
            self._tasks.append(
                asyncio.create_task(self._listen_loop(), name=f"{self._name}-listener")
            )

    async def stop(self) -> None:
        self._stop.set()
        self._apply_kick.set()
        self._rescan_kick.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    # --- hand-over to the engine -----------------------------------------------

    def _offer(self, task_ids: Sequence[int]) -> None:
        self._pending.update(task_ids)
        self._apply_kick.set()

    def _on_payload(self, text: str) -> None:
        ids = parse_payload(text)
        if ids is None:
            self._rescan_kick.set()
        else:
            self._offer(ids)

    async def _apply_loop(self) -> None:
        outage = self._outages["changes"]
        while not self._stop.is_set():
            await self._sleep(PING_SECONDS, self._apply_kick)
            self._apply_kick.clear()
            if not self._pending or self._stop.is_set():
                continue
            # Everything heard so far in one call: a burst of notifications is one read.
            ids, self._pending = sorted(self._pending), set()
            try:
                await self._target.tasks_changed(ids)
            except Exception as exc:
                self._pending.update(ids)
                await self._back_off(outage.failed(exc, "reading changed tasks"), "changes")
                self._apply_kick.set()
            else:
                self.forwarded += len(ids)
                outage.ok()

    # --- rescan ----------------------------------------------------------------

    async def _rescan_loop(self) -> None:
        outage = self._outages["rescan"]
        while not self._stop.is_set():
            delay = self._rescan_seconds
            try:
                await self.rescan()
            except Exception as exc:
                delay = outage.failed(exc, "rescanning changed tasks")
            else:
                outage.ok()
            await self._sleep(delay, self._rescan_kick, self._back["rescan"])
            self._rescan_kick.clear()
            self._back["rescan"].clear()

    async def rescan(self) -> list[int]:
        """Forward the tasks changed since the last rescan; returns their ids."""
        now = self._now()
        mark, changed = self._floor, []
        while True:
            rows = await self._feed.changed_since(mark, limit=PAGE)
            for task_id, seq in rows:
                if self._forwarded.get(task_id, -1) < seq:
                    self._forwarded[task_id] = seq
                    changed.append(task_id)
                self._high = max(self._high, seq)
            if len(rows) < PAGE:
                break
            mark = rows[-1][1]
        self._advance_floor(now)
        if changed:
            self._offer(changed)
        return changed

    def _advance_floor(self, now: float) -> None:
        """Move the floor to the high mark seen ``overlap`` seconds ago."""
        marks = self._marks
        marks.append((now, self._high))
        cutoff = now - self._overlap
        while len(marks) > 1 and marks[1][0] <= cutoff:
            marks.popleft()
        if marks[0][0] <= cutoff and marks[0][1] > self._floor:
            self._floor = marks[0][1]
            floor = self._floor
            self._forwarded = {t: s for t, s in self._forwarded.items() if s > floor}

    # --- LISTEN ----------------------------------------------------------------

    async def _listen_loop(self) -> None:
        outage = self._outages["listener"]
        while not self._stop.is_set():
            try:
                conn = await self._feed.listen(self._on_payload)
            except Exception as exc:
                await self._back_off(outage.failed(exc, "listening"), "listener")
                continue
            outage.ok()
            self.listening = True
            # Notifications sent while nobody listened are gone: the rescan finds them.
            self._rescan_kick.set()
            lost: BaseException = ConnectionError("the LISTEN connection was closed")
            try:
                await self._hold(conn)
            except Exception as exc:
                lost = exc
            finally:
                self.listening = False
                await conn.close()
            if not self._stop.is_set():
                await self._back_off(outage.failed(lost, "listening"), "listener")

    async def _hold(self, conn: Listening) -> None:
        """Return when the connection is lost or the watcher stops; raise if a ping fails."""
        while not self._stop.is_set() and not conn.lost.is_set():
            await self._sleep(self._ping_seconds, conn.lost, self._stop)
            if not self._stop.is_set() and not conn.lost.is_set():
                await conn.ping()

    # --- time --------------------------------------------------------------------

    def _now(self) -> float:
        return self._timer.now().timestamp()

    async def _back_off(self, seconds: float, part: str) -> None:
        """Sleep after a failure, until stopped or the probe sees the database back."""
        back = self._back[part]
        await self._sleep(seconds, self._stop, back)
        back.clear()

    async def _sleep(self, seconds: float, *events: asyncio.Event) -> None:
        if len(events) == 1:
            await sleep_or_event(self._timer, seconds, events[0], name=self._name)
            return
        either = asyncio.Event()
        waiters = [
            asyncio.create_task(_relay(e, either), name=f"{self._name}-relay") for e in events
        ]
        try:
            await sleep_or_event(self._timer, seconds, either, name=self._name)
        finally:
            for w in waiters:
                w.cancel()


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()
