"""Writing what attempts did: deliveries at once, outcomes in group commits, never dropped.

One flusher task drains two queues into the run store: *deliveries* (a chat post
happened — recorded so that a retry of a cut-off attempt does not post again)
and *outcomes* (how an attempt ended). A worker waits until its outcome is
durable, but a thousand workers share one commit. While the database is away
the batch is retried with back-off (``core.scheduler.outage``) — it grows with
whatever arrives meanwhile and is never dropped while the process lives; the
pool's heartbeat keeps the runs' leases alive in the meantime so that no other
worker declares them crashed. Only at shutdown, after a grace period, are
unwritten outcomes given up (logged): their leases then expire and recovery
retries those attempts.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime

from core.errors import InvalidInput
from core.ports import Clock
from core.scheduler.outage import Backoff, Outage, is_transient
from core.store.runs import ClaimedRun, Delivery, FiredRun, Outcome, RunStore

log = logging.getLogger(__name__)

#: How long the flusher lets outcomes gather before a commit.
GROUP_WINDOW_SECONDS = 0.005
#: The longest it waits for a burst of runs to start before committing anyway.
MAX_WINDOW_SECONDS = 1.0


class OutcomeRecorder:
    """Group commit of deliveries and outcomes for one worker pool."""

    def __init__(
        self,
        *,
        store: RunStore,
        clock: Clock,
        outage: Outage,
        on_retries: Callable[[list[FiredRun]], None],
        busy: Callable[[], bool] = lambda: False,
        rng: random.Random | None = None,
        name: str = "kairos-recorder",
    ) -> None:
        self._store = store
        self._clock = clock
        self._outage = outage
        self._on_retries = on_retries
        self._busy = busy
        self._rng = rng or random.Random()
        self._name = name
        self._outcomes: list[tuple[Outcome, Callable[[], None]]] = []
        self._deliveries: list[Delivery] = []
        self._started: list[tuple[int, str, datetime, str]] = []
        self._kick = asyncio.Event()
        self._abandon = asyncio.Event()
        self._retry_now = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def database_back(self) -> None:
        """The database answers again: retry a failed batch now, not after its back-off."""
        self._retry_now.set()

    def start(self) -> None:
        self._closing = False
        self._abandon.clear()
        self._task = asyncio.create_task(self._loop(), name=self._name)

    async def close(self, grace: float) -> None:
        """Write what is queued; after ``grace`` seconds of failing, give the rest up."""
        if self._task is None:
            return
        self._closing = True
        self._kick.set()
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            self._abandon.set()
            await self._task
        self._task = None

    @property
    def pending(self) -> int:
        """Outcomes queued and not yet durable."""
        return len(self._outcomes)

    def deliver(self, delivery: Delivery) -> None:
        """Queue a delivery record; it is committed with the next flush (milliseconds)."""
        self._deliveries.append(delivery)
        self._kick.set()

    def started(self, run_id: int, owner: str, at: datetime, detail: str) -> None:
        """Queue the start (status, time, event) of a run started from its reservation."""
        self._started.append((run_id, owner, at, detail))
        self._kick.set()

    def add(self, outcome: Outcome, written: Callable[[], None]) -> None:
        """Queue an outcome; ``written`` is called once it is durable (or given up)."""
        self._outcomes.append((outcome, written))
        self._kick.set()

    async def record(self, outcome: Outcome) -> None:
        """Queue an outcome and wait until it is durable (or given up at shutdown)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def written() -> None:
            if not future.done():
                future.set_result(None)

        self.add(outcome, written)
        await asyncio.shield(future)

    async def _loop(self) -> None:
        backoff = Backoff(rng=self._rng)
        while True:
            await self._kick.wait()
            # A short group-commit window: a burst's outcomes share one commit
            # instead of each finished run paying for its own; while runs are still
            # waiting to start, starting them comes first (up to a bound).
            waited = 0.0
            while not self._closing and waited < MAX_WINDOW_SECONDS:
                await asyncio.sleep(GROUP_WINDOW_SECONDS)
                waited += GROUP_WINDOW_SECONDS
                if self._deliveries or not self._busy():
                    break  # a delivery record is what prevents a repeat: never held back
            self._kick.clear()
            if not self._outcomes and not self._deliveries and not self._started:
                if self._closing:
                    return
                continue
            batch, self._outcomes = self._outcomes, []
            deliveries, self._deliveries = self._deliveries, []
            started, self._started = self._started, []
            retries: list[FiredRun] = []
            while True:
                try:
                    retries = await self._store.finish_many(
                        [o for o, _ in batch],
                        deliveries=deliveries,
                        started=started,
                        now=self._clock.now(),
                    )
                    self._outage.ok(backoff)
                    break
                except Exception as exc:
                    if isinstance(exc, InvalidInput) or not is_transient(exc):
                        # Retrying a statement the database refuses would block every
                        # later outcome: log it once; recovery settles these runs.
                        log.exception(
                            "workers: %d outcome(s) could not be recorded; their leases will "
                            "expire and recovery will settle them",
                            len(batch),
                        )
                        break
                    delay = self._outage.failed(exc, f"recording {len(batch)} outcome(s)", backoff)
                    if self._abandon.is_set():
                        log.error(
                            "workers: stopping with %d outcome(s) unwritten (database "
                            "unavailable); their leases will expire and recovery will retry them",
                            len(batch),
                        )
                        break
                    self._retry_now.clear()
                    await _first(delay, self._abandon, self._retry_now)
                    # Whatever arrived meanwhile joins the retried batch.
                    batch.extend(self._outcomes)
                    deliveries.extend(self._deliveries)
                    started.extend(self._started)
                    self._outcomes, self._deliveries, self._started = [], [], []
            for _, written in batch:
                written()
            if retries:
                self._on_retries(retries)
            self._kick.set()  # re-check for work queued meanwhile / closing


async def _first(seconds: float, *events: asyncio.Event) -> None:
    """Sleep ``seconds`` or until one of ``events`` is set."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


class RunDeliveries:
    """The ``core.jobs.DeliveryLog`` of one attempt, backed by the recorder and the store."""

    def __init__(
        self, *, recorder: OutcomeRecorder, store: RunStore, clock: Clock, run: ClaimedRun
    ) -> None:
        self._recorder = recorder
        self._store = store
        self._clock = clock
        self._run = run

    def record(self, target: str, ref: str | None) -> None:
        run = self._run
        self._recorder.deliver(
            Delivery(run.run_id, run.lease_owner, target, ref, self._clock.now())
        )

    async def earlier(self) -> Mapping[str, tuple[int, str | None]]:
        run = self._run
        return await self._store.deliveries_before(run.task_id, run.scheduled_for, run.attempt)
