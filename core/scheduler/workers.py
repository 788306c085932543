"""The worker pool: claims runs, executes them with bounded concurrency, records outcomes.

Runs arrive three ways:

* **prepared** — the local engine stages runs ahead of their instant and calls
  ``prepare``: the pool reserves them in the database (still ``pending``, so the
  engine can cancel them) and loads their tasks. At the instant ``submit`` hands
  them over and one conditional statement (``RunStore.start_reserved``) moves
  them to ``running`` only if their task is unchanged since it was loaded —
  then only in-memory dispatch remains;
* **submitted** — other runs of the local engine (due now): claimed by id;
* **polled** — due pending runs from the database (fires of other replicas,
  retries whose back-off has passed, runs left pending by a restart).

Either way a run executes only after a successful lease in the database, so
each run executes once across replicas. Execution is bounded per executor type
(``PoolSettings.per_type``): many chat posts in flight, few scripts.

Reliability: a heartbeat renews the leases of every run this pool holds — while
it executes and while its outcome waits to be written — so only a dead worker's
lease expires. Outcomes and deliveries go through ``OutcomeRecorder`` (group
commit, retried until the database is back). Failed claims back off
exponentially with jitter up to 30 s, logging once per state change.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.enums import RunStatus, RunTrigger, TaskStatus
from core.errors import InvalidInput, KairosError, NotConfigured, PermissionDenied
from core.executors.registry import ExecutorRegistry, NoExecutor, action_type
from core.jobs import Job, TaskSnapshot
from core.models import Task
from core.ports import Clock, Metrics, NullMetrics
from core.scheduler import timing
from core.scheduler.outage import Backoff, Outage
from core.scheduler.recorder import OutcomeRecorder, RunDeliveries
from core.scheduler.waiting import sleep_or_event
from core.store.runs import CRASHED, ClaimedRun, FiredRun, Outcome, RunStore

log = logging.getLogger(__name__)

# Worker ids created by this process: a run leased by our own pid under another
# id belongs to an earlier incarnation (a container restarting with the same pid).
_OWN_IDS: set[str] = set()

#: Runs in flight per executor type by default: chat posts and HTTP calls mostly
#: wait on the network, scripts use the machine. Other types: ``PoolSettings.concurrency``.
DEFAULT_PER_TYPE: Mapping[str, int] = {"notify": 256, "http": 256, "shell": 4}
#: How long a prepared run stays reserved past its instant if its engine never
#: hands it over (the engine died): then any worker may claim it.
RESERVATION_GRACE_SECONDS = 10.0


def new_worker_id() -> str:
    """``host:pid:token`` — lets recovery tell a dead local owner from a live remote one."""
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    _OWN_IDS.add(worker_id)
    return worker_id


def owner_is_dead(owner: str) -> bool:
    """Whether ``owner`` was a process on this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text, _, _token = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine: only its lease expiry tells
    pid = int(pid_text)
    if pid == os.getpid():
        return owner not in _OWN_IDS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """Tuning of a ``WorkerPool`` (defaults suit a chat bot; the bench raises them).

    ``concurrency`` bounds runs of executor types not named in ``per_type``;
    ``per_type`` bounds the named ones (``DEFAULT_PER_TYPE`` by default).
    """

    concurrency: int = 16
    per_type: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PER_TYPE))
    lease_seconds: float = 60.0
    poll_seconds: float = 1.0
    timeout_seconds: float = 300.0
    drain_seconds: float = 10.0
    prepare: bool = True

    def limit(self, kind: str) -> int:
        """How many runs of executor type ``kind`` may execute at once."""
        return max(1, self.per_type.get(kind, self.concurrency))

    @property
    def capacity(self) -> int:
        """How many runs the pool holds at once (executing or waiting for their type's slot)."""
        return sum(max(1, n) for n in self.per_type.values()) + max(1, self.concurrency)


@dataclass(slots=True)
class _Prepared:
    """A reserved run with its task loaded ahead of its instant."""

    run: FiredRun
    task: Task
    cursor: datetime | None  # the task's cursor as the engine left it after this fire


class WorkerPool:
    """Executes runs through executors; implements the engine's ``RunSink``."""

    def __init__(
        self,
        *,
        store: RunStore,
        executors: ExecutorRegistry,
        clock: Clock,
        settings: PoolSettings | None = None,
        worker_id: str | None = None,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
        name: str = "kairos-workers",
    ) -> None:
        self._store = store
        self._executors = executors
        self._clock = clock
        self._settings = settings or PoolSettings()
        self.worker_id = worker_id or new_worker_id()
        _OWN_IDS.add(self.worker_id)
        self._rng = rng or random.Random()
        self._metrics = metrics or NullMetrics()
        self._name = name
        self._lease = timedelta(seconds=self._settings.lease_seconds)
        self._outage = Outage("workers", metrics=self._metrics)
        self._recorder = OutcomeRecorder(
            store=store,
            clock=clock,
            outage=self._outage,
            on_retries=self._retries_written,
            rng=self._rng,
            name=f"{name}-recorder",
        )
        self._local: deque[int] = deque()
        self._ready: deque[_Prepared] = deque()
        self._prepared: dict[int, _Prepared] = {}
        self._preparing: set[asyncio.Task[None]] = set()
        # Runs whose prepared fast path failed: (scheduled_for, cursor) to re-check.
        self._demoted: dict[int, tuple[datetime, datetime | None]] = {}
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._waiting = 0
        self._kick = asyncio.Event()
        self._stop = asyncio.Event()
        self._halt = asyncio.Event()
        self._next_poll = 0.0
        self._last_recover = 0.0
        self._loops: list[asyncio.Task[None]] = []
        self._heartbeat: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        """Recover runs of crashed workers, then start dispatching."""
        self._stop.clear()
        self._halt.clear()
        self._recorder.start()
        await self.recover()
        self._heartbeat = asyncio.create_task(
            self._heartbeat_loop(), name=f"{self._name}-heartbeat"
        )
        self._loops = [
            asyncio.create_task(self._dispatch_loop(), name=f"{self._name}-dispatcher"),
        ]

    async def stop(self) -> None:
        """Stop claiming, let running executions finish (``drain_seconds``), then cancel.

        Leases stay renewed until every outcome is written or, with the database
        away, until ``drain_seconds`` more have passed.
        """
        self._stop.set()
        self._kick.set()
        await asyncio.gather(*self._loops, *self._preparing, return_exceptions=True)
        self._loops = []
        running = list(self._inflight.values())
        if running:
            _done, late = await asyncio.wait(running, timeout=self._settings.drain_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._recorder.close(self._settings.drain_seconds)
        self._halt.set()
        if self._heartbeat is not None:
            await self._heartbeat
            self._heartbeat = None

    @property
    def busy(self) -> int:
        """Runs held right now (executing, waiting for a slot, or for their outcome write)."""
        return len(self._inflight)

    # --- RunSink ------------------------------------------------------------

    def submit(self, runs: Sequence[FiredRun]) -> None:
        """Queue runs from the local engine whose instant has come (claimed before they run)."""
        for run in runs:
            prepared = self._prepared.pop(run.run_id, None)
            if prepared is None:
                self._local.append(run.run_id)
            else:
                self._ready.append(prepared)
        self._kick.set()

    def prepare(self, runs: Sequence[FiredRun]) -> None:
        """Reserve runs staged ahead of their instant and load their tasks (in the background).

        Purely an optimisation: a run not prepared in time, or whose task changes
        meanwhile, takes the ordinary path when ``submit`` hands it over.
        """
        pending = [r for r in runs if r.status is RunStatus.PENDING]
        if not self._settings.prepare or not pending or self._stop.is_set():
            return
        job = asyncio.create_task(self._prepare(pending), name=f"{self._name}-prepare")
        self._preparing.add(job)
        job.add_done_callback(self._preparing.discard)

    async def _prepare(self, runs: list[FiredRun]) -> None:
        last = max((r.not_before or r.scheduled_for) for r in runs)
        until = last + timedelta(seconds=RESERVATION_GRACE_SECONDS)
        try:
            reserved = set(
                await self._store.reserve(self.worker_id, [r.run_id for r in runs], until=until)
            )
            tasks = await self._store.tasks(r.task_id for r in runs if r.run_id in reserved)
        except Exception as exc:  # the runs still take the ordinary path
            log.debug("workers: preparing %d run(s) failed: %s", len(runs), exc)
            return
        handed = False
        for run in runs:
            task = tasks.get(run.task_id)
            if run.run_id in reserved and task is not None:
                if run.run_id in self._local:
                    # Handed over while we prepared: too late, it goes the ordinary way.
                    continue
                self._prepared[run.run_id] = _Prepared(run, task, task.next_fire_at)
                handed = True
        if handed:
            self._kick.set()

    # --- dispatching ----------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        backoff = Backoff(rng=self._rng)
        while not self._stop.is_set():
            self._kick.clear()
            try:
                more = await self._dispatch_once()
                self._outage.ok()
                backoff.reset()
            except Exception as exc:
                delay = self._outage.failed(exc, backoff, "claiming runs")
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                continue
            if more:
                continue
            now_ts = self._clock.now().timestamp()
            await self._wait(max(0.0, self._next_poll - now_ts))

    async def _dispatch_once(self) -> bool:
        """Claim what fits; True when more work is known to be waiting right now."""
        now = self._clock.now()
        now_ts = now.timestamp()
        if now_ts - self._last_recover >= self._settings.lease_seconds:
            await self.recover()
            self._forget_stale(now)
        capacity = self._settings.capacity
        free = capacity - len(self._inflight)
        if free > 0 and self._ready:
            batch = [self._ready.popleft() for _ in range(min(free, len(self._ready)))]
            free -= await self._start_prepared(batch, now)
        claimed: list[ClaimedRun] = []
        if free > 0 and self._local:
            ids = [self._local.popleft() for _ in range(min(free, len(self._local)))]
            claimed = await self._store.claim_ids(self.worker_id, ids, now=now, lease=self._lease)
            free -= len(claimed)
        saturated = False
        if free > 0 and now_ts >= self._next_poll:
            polled = await self._store.claim(self.worker_id, limit=free, now=now, lease=self._lease)
            claimed.extend(polled)
            saturated = len(polled) == free
            if not saturated:
                self._next_poll = now_ts + self._settings.poll_seconds
        if claimed:
            await self._start(claimed)
        self._metrics.queue_depth(len(self._local) + len(self._ready) + self._waiting)
        has_room = len(self._inflight) < capacity
        return has_room and (bool(self._local) or bool(self._ready) or saturated)

    async def _wait(self, seconds: float) -> None:
        await sleep_or_event(self._clock, seconds, self._kick, name=f"{self._name}-dispatcher")

    def _forget_stale(self, now: datetime) -> None:
        """Drop prepared runs their engine never handed over (it cancelled them)."""
        horizon = now - self._lease
        for run_id, prepared in list(self._prepared.items()):
            if (prepared.run.not_before or prepared.run.scheduled_for) < horizon:
                del self._prepared[run_id]
        for run_id, (due, _cursor) in list(self._demoted.items()):
            if due < horizon and run_id not in self._inflight:
                del self._demoted[run_id]

    async def _start_prepared(self, batch: list[_Prepared], now: datetime) -> int:
        """Start prepared runs whose task is unchanged; the others go the ordinary way."""
        started = await self._store.start_reserved(
            self.worker_id,
            [(p.run.run_id, p.task.updated_at) for p in batch],
            now=now,
            lease=self._lease,
        )
        for p in batch:
            run = p.run
            trigger = started.get(run.run_id)
            if trigger is None:
                # Changed, paused, deleted or cancelled since it was prepared: claim it
                # by id (if still pending) and re-read the task before deciding.
                self._demoted[run.run_id] = (run.scheduled_for, p.cursor)
                self._local.append(run.run_id)
                continue
            claimed = ClaimedRun(
                run.run_id, run.task_id, run.scheduled_for, run.attempt, trigger, self.worker_id
            )
            self._launch(claimed, p.task)
        return len(started)

    async def _start(self, claimed: list[ClaimedRun]) -> None:
        tasks = await self._store.tasks(c.task_id for c in claimed)
        crashed = await self._store.crashed_before(claimed)
        for c in claimed:
            if c.run_id in crashed:
                c = ClaimedRun(
                    c.run_id, c.task_id, c.scheduled_for, c.attempt, c.trigger, c.lease_owner, True
                )
            self._launch(c, tasks.get(c.task_id))

    def _launch(self, claimed: ClaimedRun, task: Task | None) -> None:
        job = asyncio.create_task(self._execute(claimed, task), name=f"kairos-run-{claimed.run_id}")
        self._inflight[claimed.run_id] = job
        job.add_done_callback(self._done)

    def _done(self, job: asyncio.Task[None]) -> None:
        run_id = int(job.get_name().rsplit("-", 1)[1])
        self._inflight.pop(run_id, None)
        self._demoted.pop(run_id, None)
        self._kick.set()  # a slot is free

    def _slot(self, kind: str) -> asyncio.Semaphore:
        slot = self._slots.get(kind)
        if slot is None:
            slot = self._slots[kind] = asyncio.Semaphore(self._settings.limit(kind))
        return slot

    # --- executing ----------------------------------------------------------

    async def _execute(self, claimed: ClaimedRun, task: Task | None) -> None:
        skip = self._skip_reason(claimed, task)
        if skip is not None:
            status, reason = skip
            await self._recorder.record(
                Outcome(claimed.run_id, claimed.lease_owner, status, error=reason)
            )
            return
        kind = (action_type(task) if task is not None else None) or "unknown"
        slot = self._slot(kind)
        self._waiting += 1
        try:
            await slot.acquire()
        finally:
            self._waiting -= 1
        try:
            outcome = await self._attempt(claimed, task, kind)
        finally:
            slot.release()
        await self._recorder.record(outcome)

    def _skip_reason(self, claimed: ClaimedRun, task: Task | None) -> tuple[RunStatus, str] | None:
        if task is None or claimed.trigger not in _SCHEDULED:
            return None
        if not _live(task):
            # Paused, completed or deleted after the run was written (possibly by
            # another replica): the fire is recorded as skipped, not executed.
            return (
                RunStatus.SKIPPED,
                "skipped: the task was paused, completed or deleted before this fire",
            )
        staged = self._demoted.get(claimed.run_id)
        if staged is not None:
            due, cursor = staged
            if task.next_fire_at not in (cursor, due):
                # Rescheduled by someone after this fire was staged: the new schedule wins.
                return (
                    RunStatus.CANCELLED,
                    "cancelled: the task was changed, paused or deleted before this fire",
                )
        return None

    async def _attempt(self, claimed: ClaimedRun, task: Task | None, kind: str) -> Outcome:
        self._metrics.run_started(
            kind, max(0.0, (self._clock.now() - claimed.scheduled_for).total_seconds())
        )
        started = time.perf_counter()
        status, output, error, error_kind = RunStatus.COMPLETED, None, None, "error"
        timeout = self._settings.timeout_seconds
        try:
            if task is None:
                raise NoExecutor(f"Task {claimed.task_id} no longer exists.")
            timeout = _timeout_of(task, timeout)
            executor = self._executors.for_task(task)
            job = Job(
                run_id=claimed.run_id,
                task=TaskSnapshot.of(task),
                scheduled_for=claimed.scheduled_for,
                attempt=claimed.attempt,
                trigger=claimed.trigger,
                timeout_seconds=timeout,
                retry_of_crash=claimed.retry_of_crash,
                deliveries=RunDeliveries(
                    recorder=self._recorder, store=self._store, clock=self._clock, run=claimed
                ),
            )
            async with asyncio.timeout(timeout):
                result = await executor.execute(job)
            output = result.output
        except TimeoutError:
            status, error_kind = RunStatus.FAILED, "timeout"
            error = f"timeout: no result after {timeout:g} s"
        except asyncio.CancelledError:
            status, error_kind = RunStatus.FAILED, "interrupted"
            error = "interrupted: the scheduler stopped while this attempt ran"
        except KairosError as exc:
            status, error_kind, error = RunStatus.FAILED, _kind_of(exc), exc.user_message()
        except Exception as exc:  # an executor's bug fails its run, never the pool
            status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        duration = time.perf_counter() - started
        outcome = self._outcome(
            claimed, task, status, output, error, error_kind, int(duration * 1000)
        )
        self._metrics.run_finished(kind, outcome.status.value, duration)
        if status is not RunStatus.COMPLETED:
            log.warning(
                "run %s (task %s, attempt %d) %s: %s",
                claimed.run_id,
                claimed.task_id,
                claimed.attempt,
                outcome.status.value,
                error,
            )
        return outcome

    def _outcome(
        self,
        claimed: ClaimedRun,
        task: Task | None,
        status: RunStatus,
        output: str | None,
        error: str | None,
        kind: str,
        duration_ms: int | None,
    ) -> Outcome:
        if status is RunStatus.FAILED and task is not None:
            delay = timing.retry_delay(task.retry_policy, claimed.attempt, kind, self._rng)
            if delay is not None:
                retry_at = self._clock.now() + timedelta(seconds=delay)
                return Outcome(
                    claimed.run_id,
                    claimed.lease_owner,
                    RunStatus.RETRYING,
                    output,
                    error,
                    duration_ms,
                    retry_at,
                )
        return Outcome(claimed.run_id, claimed.lease_owner, status, output, error, duration_ms)

    def _retries_written(self, retries: list[FiredRun]) -> None:
        self._next_poll = min(self._next_poll, min(_not_before(r) for r in retries).timestamp())
        self._kick.set()

    # --- leases and recovery ----------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        """Renew the leases of every run held here until the pool halts.

        Runs between a renewal and the next are at most ``lease / 3`` old; a failed
        renewal is retried with back-off (never slower than that), so a live
        worker's lease outlives database hiccups shorter than two thirds of it.
        """
        interval = self._settings.lease_seconds / 3
        backoff = Backoff(rng=self._rng, cap=interval)
        delay = interval
        while not self._halt.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._halt.wait(), delay)
            if self._halt.is_set():
                return
            delay = interval
            held = list(self._inflight)
            if not held:
                continue
            try:
                await self._store.renew(self.worker_id, held, until=self._clock.now() + self._lease)
                self._outage.ok()
                backoff.reset()
            except Exception as exc:
                delay = min(interval, self._outage.failed(exc, backoff, "renewing leases"))

    async def recover(self) -> int:
        """Settle runs left ``running`` by crashed workers: failed, or retried per policy.

        A run is crashed when its lease expired, or its owner was a process on
        this host that is gone. Returns how many runs were recovered.
        """
        now = self._clock.now()
        self._last_recover = now.timestamp()
        crashed = [
            (c, expires)
            for c, expires in await self._store.running()
            if c.lease_owner != self.worker_id
            and (expires is None or expires <= now or owner_is_dead(c.lease_owner))
        ]
        if not crashed:
            return 0
        tasks = await self._store.tasks(c.task_id for c, _ in crashed)
        outcomes = []
        for c, expires in crashed:
            why = "its lease expired" if expires is None or expires <= now else "it is gone"
            error = f"{CRASHED} worker {c.lease_owner} stopped during attempt {c.attempt} ({why})"
            outcomes.append(
                self._outcome(c, tasks.get(c.task_id), RunStatus.FAILED, None, error, "crash", None)
            )
        await self._store.finish_many(outcomes, now=now)
        log.warning("workers: recovered %d crashed run(s)", len(outcomes))
        return len(outcomes)


_SCHEDULED = frozenset({RunTrigger.SCHEDULE, RunTrigger.MISFIRE})


def _live(task: Task) -> bool:
    return task.enabled and task.status == TaskStatus.OPEN and task.deleted_at is None


def _kind_of(exc: KairosError) -> str:
    # Retry policies name error kinds; a missing executor or bad input never heals by retrying.
    if isinstance(exc, NotConfigured):
        return "not_configured"
    if isinstance(exc, InvalidInput):
        return "invalid_input"
    if isinstance(exc, PermissionDenied):
        return "permission_denied"
    return "error"


def _timeout_of(task: Task, default: float) -> float:
    value: Any = (task.action or {}).get("timeout_seconds")
    return float(value) if isinstance(value, int | float) and value > 0 else default


def _not_before(run: FiredRun) -> datetime:
    return run.scheduled_for if run.not_before is None else run.not_before
