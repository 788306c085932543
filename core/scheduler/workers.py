"""The worker pool: claims runs, executes them with bounded concurrency, records outcomes.

Runs arrive three ways:

* **prepared** — the local engine stages runs ahead of their instant and calls
  ``prepare``: the pool reserves them at once (``RunStore.reserve``: still
  ``pending``, so the engine's cancel settles them, but no other worker claims
  them) and snapshots their tasks. At the instant ``submit`` hands them over and
  only in-memory dispatch remains; their start is written right after, with the
  next group commit. A run whose task is edited, paused or deleted meanwhile is
  cancelled by the engine (which learns of every change, from any process) and
  never handed over;
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
import heapq
import logging
import os
import random
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from core.enums import RunStatus, RunTrigger, TaskStatus
from core.errors import KairosError
from core.executors.registry import ExecutorRegistry, NoExecutor, action_type
from core.jobs import Job, TaskSnapshot
from core.models import Task
from core.ports import Clock, Metrics, NullMetrics
from core.retry import error_kind as retry_error_kind
from core.scheduler import timing
from core.scheduler.outage import Backoff, Outage, Probe, is_database_outage
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


#: The error kind of an attempt cut short by an unavailable database.
DATABASE = "database"
#: Attempts failed by an unavailable database are retried up to this attempt
#: number whatever the task's retry policy says (an outage is nobody's fault).
OUTAGE_ATTEMPTS = 20

#: How often attempts are checked against their time limit.
WATCHDOG_SECONDS = 0.05


def new_worker_id() -> str:
    """``host:pid:token`` — lets recovery tell a dead local owner from a live remote one."""
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    _OWN_IDS.add(worker_id)
    return worker_id


def _local_pid(owner: str) -> int | None:
    """The pid of ``owner`` (``host:pid:token``) when it is a process on this host."""
    host, _, rest = owner.partition(":")
    pid_text, _, _token = rest.partition(":")
    return int(pid_text) if host == socket.gethostname() and pid_text.isdigit() else None


def owner_is_dead(owner: str) -> bool:
    """Whether ``owner`` was a process on this host that no longer runs."""
    pid = _local_pid(owner)
    if pid is None:
        return False  # another machine: only its lease expiry tells
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
    #: How often runs of dead workers are looked for: a worker on this host that
    #: is gone is seen at once (its pid), one elsewhere when its lease expires.
    recover_seconds: float = 2.0
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

    claimed: ClaimedRun
    task: Task
    snapshot: TaskSnapshot
    kind: str


@dataclass(slots=True)
class _Queued:
    """A leased run waiting for (or holding) a slot of its executor type."""

    claimed: ClaimedRun
    task: Task | None
    snapshot: TaskSnapshot | None


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
        probe: Probe | None = None,
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
        self._capacity = self._settings.capacity
        self._outage = Outage(
            "workers", metrics=self._metrics, probe=probe, on_back=self._database_back
        )
        self._recorder = OutcomeRecorder(
            store=store,
            clock=clock,
            outage=self._outage,
            on_retries=self._retries_written,
            busy=self._starting,
            rng=self._rng,
            name=f"{name}-recorder",
        )
        self._local: deque[int] = deque()
        self._ready: deque[_Prepared] = deque()
        self._prepared: dict[int, _Prepared] = {}
        self._preparing: set[asyncio.Task[None]] = set()
        self._preparing_ids: set[int] = set()
        self._early: set[int] = set()  # handed over while still being prepared
        # Every run leased here until its outcome is durable (the heartbeat renews them).
        self._held: set[int] = set()
        # Runs leased and not done executing; bounded by ``capacity``.
        self._active = 0
        # Per executor type: the queue and its worker coroutines (at most the type's limit).
        self._queues: dict[str, deque[_Queued]] = {}
        self._alive: dict[str, int] = {}
        self._workers: set[asyncio.Task[None]] = set()
        # Worker coroutine → (monotonic deadline, run id) of the attempt it executes.
        self._deadlines: dict[asyncio.Task[Any], tuple[float, int]] = {}
        self._timed_out: set[int] = set()
        self._kick = asyncio.Event()
        self._stop = asyncio.Event()
        self._halt = asyncio.Event()
        self._next_poll = 0.0
        # Instants at which runs known to be pending become claimable (retries,
        # released reservations): the dispatcher polls at each, not a poll later.
        self._expected: list[float] = []
        self._last_recover = 0.0
        self._last_forget = 0.0
        # Other workers on this host seen holding runs at a recovery pass: watched (by
        # pid, every watchdog tick) so that one killed is recovered at once.
        self._peers: set[str] = set()
        self._payloads: Callable[[int], Awaitable[tuple[bool, Any]]] | None = None
        self._finished: Callable[[int, int, RunStatus], None] | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._heartbeat: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None

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
        self._watchdog = asyncio.create_task(self._watchdog_loop(), name=f"{self._name}-watchdog")

    async def stop(self) -> None:
        """Stop claiming, let running executions finish (``drain_seconds``), then cancel.

        Leases stay renewed until every outcome is written or, with the database
        away, until ``drain_seconds`` more have passed.
        """
        self._stop.set()
        self._kick.set()
        await asyncio.gather(*self._loops, *self._preparing, return_exceptions=True)
        self._loops = []
        await self._release_prepared()
        running = list(self._workers)
        if running:
            _done, late = await asyncio.wait(running, timeout=self._settings.drain_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._abandon_queued()
        await self._recorder.close(self._settings.drain_seconds)
        self._halt.set()
        for loop in (self._heartbeat, self._watchdog):
            if loop is not None:
                await loop
        self._heartbeat = self._watchdog = None

    @property
    def busy(self) -> int:
        """Runs held right now (executing, waiting for a slot, or for their outcome write)."""
        return len(self._held)

    # --- RunSink ------------------------------------------------------------

    def submit(self, runs: Sequence[FiredRun]) -> None:
        """Queue runs from the local engine whose instant has come (claimed before they run)."""
        for run in runs:
            prepared = self._prepared.pop(run.run_id, None)
            if prepared is not None:
                self._ready.append(prepared)
            elif run.run_id in self._preparing_ids:
                self._early.add(run.run_id)  # ``_prepare`` routes it when its lease is known
            else:
                self._local.append(run.run_id)
        self._kick.set()

    def prepare(self, runs: Sequence[FiredRun]) -> None:
        """Lease runs staged ahead of their instant and snapshot their tasks (in the background).

        The engine hands each of them over with ``submit`` at its instant — or
        cancels it (its task changed), and then it is never started here.
        """
        pending = [r for r in runs if r.status is RunStatus.PENDING]
        if not self._settings.prepare or not pending or self._stop.is_set():
            return
        self._preparing_ids.update(r.run_id for r in pending)
        job = asyncio.create_task(self._prepare(pending), name=f"{self._name}-prepare")
        self._preparing.add(job)
        job.add_done_callback(self._preparing.discard)

    async def _prepare(self, runs: list[FiredRun]) -> None:
        last = max((r.not_before or r.scheduled_for) for r in runs)
        leased: dict[int, RunTrigger] = {}
        tasks: dict[int, Task] = {}
        try:
            leased = await self._store.reserve(
                self.worker_id, [r.run_id for r in runs], until=last + self._lease
            )
            tasks = await self._store.tasks(r.task_id for r in runs if r.run_id in leased)
        except Exception as exc:
            # Leased or not, every run still starts: see the hand-off below.
            log.debug("workers: preparing %d run(s) failed: %s", len(runs), exc)
        orphans: list[int] = []
        for run in runs:
            self._preparing_ids.discard(run.run_id)
            early = run.run_id in self._early
            self._early.discard(run.run_id)
            trigger = leased.get(run.run_id)
            task = tasks.get(run.task_id)
            if trigger is None:
                if early:
                    self._local.append(run.run_id)  # not leased: claim it the ordinary way
                continue
            if task is None:  # leased but unreadable (deleted, or the read failed)
                orphans.append(run.run_id)
                if early:
                    self._local.append(run.run_id)
                continue
            claimed = ClaimedRun(
                run.run_id, run.task_id, run.scheduled_for, run.attempt, trigger, self.worker_id
            )
            prepared = _Prepared(
                claimed, task, TaskSnapshot.of(task), action_type(task) or "unknown"
            )
            if early:
                self._ready.append(prepared)
            else:
                self._prepared[run.run_id] = prepared
        if orphans:
            with suppress(Exception):
                await self._store.release(orphans, owner=self.worker_id)
        self._kick.set()

    async def _release_prepared(self) -> None:
        """At shutdown: runs leased ahead and not started go back to ``pending``."""
        ids = [p.claimed.run_id for p in self._prepared.values()]
        ids += [p.claimed.run_id for p in self._ready]
        self._prepared.clear()
        self._ready.clear()
        if ids:
            try:
                await self._store.release(ids, owner=self.worker_id)
            except Exception as exc:  # recovery returns them to pending later
                log.warning("workers: could not release %d prepared run(s): %s", len(ids), exc)

    # --- dispatching ----------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        backoff = Backoff(rng=self._rng)
        while not self._stop.is_set():
            self._kick.clear()
            try:
                more = await self._dispatch_once()
                self._outage.ok(backoff)
            except Exception as exc:
                await self._wait(self._outage.failed(exc, "claiming runs", backoff))
                continue
            if more:
                continue
            now_ts = self._clock.now().timestamp()
            await self._wait(max(0.0, self._next_poll - now_ts))

    async def _dispatch_once(self) -> bool:
        """Claim what fits; True when more work is known to be waiting right now."""
        now = self._clock.now()
        now_ts = now.timestamp()
        capacity = self._capacity
        free = capacity - self._active
        if self._ready:
            # Leased already: starting them is in-memory only, whatever the room —
            # and done first, so that no housekeeping query delays a due instant.
            free -= self._start_prepared(now)
        if now_ts - self._last_recover >= self._settings.recover_seconds:
            await self.recover()
        if now_ts - self._last_forget >= self._settings.lease_seconds:
            self._last_forget = now_ts
            await self._forget_stale(now)
        claimed: list[ClaimedRun] = []
        if free > 0 and self._local:
            ids = [self._local.popleft() for _ in range(min(free, len(self._local)))]
            try:
                claimed = await self._store.claim_ids(
                    self.worker_id, ids, now=now, lease=self._lease
                )
            except Exception:
                self._local.extendleft(reversed(ids))  # claimed when the database is back
                raise
            free -= len(claimed)
        saturated = False
        if free > 0 and now_ts >= self._next_poll:
            polled = await self._store.claim(self.worker_id, limit=free, now=now, lease=self._lease)
            claimed.extend(polled)
            saturated = len(polled) == free
            if not saturated:
                self._next_poll = now_ts + self._settings.poll_seconds
                while self._expected and self._expected[0] <= now_ts:
                    heapq.heappop(self._expected)
                if self._expected:
                    self._next_poll = min(self._next_poll, self._expected[0])
        if claimed:
            await self._start(claimed)
        waiting = sum(len(q) for q in self._queues.values())
        self._metrics.queue_depth(len(self._local) + len(self._ready) + waiting)
        has_room = self._active < capacity
        return has_room and (bool(self._local) or bool(self._ready) or saturated)

    async def _wait(self, seconds: float) -> None:
        await sleep_or_event(self._clock, seconds, self._kick, name=f"{self._name}-dispatcher")

    async def _forget_stale(self, now: datetime) -> None:
        """Drop prepared runs their engine never handed over (it cancelled them)."""
        horizon = now - self._lease
        stale = [
            run_id for run_id, p in self._prepared.items() if p.claimed.scheduled_for < horizon
        ]
        for run_id in stale:
            del self._prepared[run_id]
        if stale:  # normally settled by the engine's cancel already; never leave a lease
            await self._store.release(stale, owner=self.worker_id)

    def _start_prepared(self, now: datetime) -> int:
        """Start every handed-over prepared run: no database round trip at the instant."""
        count = 0
        while self._ready:
            p = self._ready.popleft()
            run = p.claimed
            self._recorder.started(
                run.run_id, self.worker_id, now, f"attempt {run.attempt} on {self.worker_id}"
            )
            self._enqueue(_Queued(run, p.task, p.snapshot), p.kind)
            count += 1
        return count

    async def _start(self, claimed: list[ClaimedRun]) -> None:
        tasks = await self._store.tasks(c.task_id for c in claimed)
        crashed = await self._store.crashed_before(claimed)
        for c in claimed:
            if c.run_id in crashed:
                c = ClaimedRun(
                    c.run_id, c.task_id, c.scheduled_for, c.attempt, c.trigger, c.lease_owner, True
                )
            task = tasks.get(c.task_id)
            kind = (action_type(task) if task is not None else None) or "unknown"
            self._enqueue(_Queued(c, task, None), kind)

    def _enqueue(self, item: _Queued, kind: str) -> None:
        """Queue a leased run for its type; start a worker coroutine if the type has room."""
        self._held.add(item.claimed.run_id)
        self._active += 1
        queue = self._queues.get(kind)
        if queue is None:
            queue = self._queues[kind] = deque()
        queue.append(item)
        alive = self._alive.get(kind, 0)
        if alive < self._settings.limit(kind) and alive < len(queue):
            self._alive[kind] = alive + 1
            worker = asyncio.create_task(self._work(kind, queue), name=f"{self._name}-{kind}")
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    async def _work(self, kind: str, queue: deque[_Queued]) -> None:
        """One of a type's worker coroutines: runs queued attempts one after the other.

        Long-lived coroutines (not a task per run) keep the cost at the due
        instant to a queue pop and a call; the outcome is handed to the recorder
        without waiting for its commit.
        """
        try:
            while queue:
                item = queue.popleft()
                try:
                    outcome = await self._execute(item, kind)
                finally:
                    self._active -= 1
                    if self._active + 1 >= self._capacity:
                        self._kick.set()  # the pool was full: there is room again
                self._recorder.add(
                    outcome,
                    partial(
                        self._written, item.claimed.run_id, item.claimed.task_id, outcome.status
                    ),
                )
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    return  # stopped mid-attempt: the rest of the queue is abandoned by stop()
        finally:
            self._alive[kind] -= 1

    def _starting(self) -> bool:
        """Whether handed-over runs still wait to start (outcome commits can wait a bit)."""
        return bool(self._ready) or any(self._queues.values())

    def _written(
        self, run_id: int, task_id: int | None = None, status: RunStatus | None = None
    ) -> None:
        self._held.discard(run_id)
        if self._finished is not None and task_id is not None and status is not None:
            self._finished(run_id, task_id, status)

    # --- events (``core.events``) --------------------------------------------

    def use_events(
        self,
        *,
        payloads: Callable[[int], Awaitable[tuple[bool, Any]]],
        finished: Callable[[int, int, RunStatus], None],
    ) -> None:
        """Give jobs their event's payload, and report durable outcomes as task events.

        ``payloads(run_id)`` is asked for runs triggered by an event (and their
        retries); ``finished(run_id, task_id, status)`` is called once an outcome is written.
        """
        self._payloads = payloads
        self._finished = finished

    async def _event_of(self, claimed: ClaimedRun) -> Mapping[str, Any] | None:
        if self._payloads is None or claimed.trigger not in _EVENTFUL:
            return None
        found, payload = await self._payloads(claimed.run_id)
        if not found:
            return None
        return payload if isinstance(payload, Mapping) else {"body": payload}

    def _abandon_queued(self) -> None:
        """At shutdown: runs leased but never started are failed as interrupted (retried)."""
        for queue in self._queues.values():
            while queue:
                item = queue.popleft()
                self._active -= 1
                outcome = self._outcome(
                    item.claimed,
                    item.task,
                    RunStatus.FAILED,
                    None,
                    "interrupted: the scheduler stopped before this attempt started",
                    "interrupted",
                    None,
                )
                self._recorder.add(outcome, partial(self._written, item.claimed.run_id))

    # --- executing ----------------------------------------------------------

    async def _execute(self, item: _Queued, kind: str) -> Outcome:
        claimed, task = item.claimed, item.task
        skip = self._skip_reason(claimed, task)
        if skip is not None:
            status, reason = skip
            return Outcome(claimed.run_id, claimed.lease_owner, status, error=reason)
        return await self._attempt(claimed, task, item.snapshot, kind)

    def _skip_reason(self, claimed: ClaimedRun, task: Task | None) -> tuple[RunStatus, str] | None:
        if task is None:
            return None
        if claimed.trigger is RunTrigger.DEPENDENCY:
            return _step_not_run(task)
        if claimed.trigger not in _SCHEDULED:
            return None
        if not _live(task):
            # Paused, completed or deleted after the run was written (possibly by
            # another replica): the fire is recorded as skipped, not executed.
            return (
                RunStatus.SKIPPED,
                "skipped: the task was paused, completed or deleted before this fire",
            )
        return None

    async def _attempt(
        self, claimed: ClaimedRun, task: Task | None, snapshot: TaskSnapshot | None, kind: str
    ) -> Outcome:
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
            event = await self._event_of(claimed)
            job = Job(
                run_id=claimed.run_id,
                task=snapshot or TaskSnapshot.of(task),
                scheduled_for=claimed.scheduled_for,
                attempt=claimed.attempt,
                trigger=claimed.trigger,
                timeout_seconds=timeout,
                retry_of_crash=claimed.retry_of_crash,
                deliveries=RunDeliveries(
                    recorder=self._recorder, store=self._store, clock=self._clock, run=claimed
                ),
                event=event,
            )
            current = asyncio.current_task()
            assert current is not None
            # The watchdog cancels this coroutine at the deadline: a float stored
            # here instead of a timer handle per run (``asyncio.timeout``).
            self._deadlines[current] = (time.monotonic() + timeout, claimed.run_id)
            try:
                result = await executor.execute(job)
            finally:
                del self._deadlines[current]
            output = result.output
        except TimeoutError:
            status, error_kind = RunStatus.FAILED, "timeout"
            error = f"timeout: no result after {timeout:g} s"
        except asyncio.CancelledError:
            if claimed.run_id in self._timed_out:
                self._timed_out.discard(claimed.run_id)
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()
                status, error_kind = RunStatus.FAILED, "timeout"
                error = f"timeout: no result after {timeout:g} s"
            else:
                status, error_kind = RunStatus.FAILED, "interrupted"
                error = "interrupted: the scheduler stopped while this attempt ran"
        except KairosError as exc:
            status, error_kind, error = RunStatus.FAILED, retry_error_kind(exc), exc.user_message()
            if is_database_outage(exc):
                error_kind = DATABASE
        except Exception as exc:  # an executor's bug fails its run, never the pool
            status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
            if is_database_outage(exc):
                error_kind = DATABASE
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
            if kind == DATABASE and claimed.attempt < OUTAGE_ATTEMPTS:
                # The database failed, not the action: such attempts do not use up
                # the task's retries, and the next one comes as soon as the outcome
                # is written — which itself waits until the database is back.
                delay = 0.0
            elif delay is not None and kind == "crash":
                delay = 0.0  # the worker died, not the action: no reason to wait
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

    def _database_back(self) -> None:
        """The probe saw the database answer: claim and write now, not after the back-off."""
        self._recorder.database_back()
        self._kick.set()

    def _retries_written(self, retries: list[FiredRun]) -> None:
        self._expect(_not_before(r).timestamp() for r in retries)

    def _expect(self, instants: Iterable[float]) -> None:
        """Pending runs become claimable at ``instants``: poll at each of them."""
        for ts in instants:
            heapq.heappush(self._expected, ts)
        if self._expected:
            self._next_poll = min(self._next_poll, self._expected[0])
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
            held = list(self._held)
            if not held:
                continue
            try:
                await self._store.renew(self.worker_id, held, until=self._clock.now() + self._lease)
                self._outage.ok(backoff)
            except Exception as exc:
                delay = min(interval, self._outage.failed(exc, "renewing leases", backoff))

    async def _watchdog_loop(self) -> None:
        """Cancel attempts past their time limit and notice a local peer's death
        (both checked every ``WATCHDOG_SECONDS``)."""
        while not self._halt.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._halt.wait(), WATCHDOG_SECONDS)
            self._watch_peers()
            now = time.monotonic()
            for worker, (deadline, run_id) in list(self._deadlines.items()):
                if deadline <= now and run_id not in self._timed_out:
                    self._timed_out.add(run_id)
                    worker.cancel()

    def _watch_peers(self) -> None:
        """A peer on this host that died: recover its runs now, not at the next pass.

        Its reservations are runs due within the engine's look-ahead; waiting up to
        ``recover_seconds`` to notice would make them that late. (A worker on another
        machine is known dead only when its lease expires.)
        """
        dead = {owner for owner in self._peers if owner_is_dead(owner)}
        if dead:
            self._peers -= dead
            self._last_recover = 0.0
            self._kick.set()

    async def recover(self) -> int:
        """Settle runs of crashed workers: failed, or retried per policy (``retry_of_crash``).

        A run is crashed when it is ``running`` and its lease expired or its owner
        was a process on this host that is gone — or when it was reserved ahead
        of its instant by such a worker and the instant has passed (that worker
        may have started it: the start is written just after it). Returns how
        many runs were recovered.
        """
        now = self._clock.now()
        self._last_recover = now.timestamp()

        def gone(owner: str, expires: datetime | None) -> bool:
            if owner == self.worker_id:
                return False
            return expires is None or expires <= now or owner_is_dead(owner)

        # (run as leased now, the owner that is gone, why)
        crashed: list[tuple[ClaimedRun, str, str]] = []
        holders: set[str] = set()  # live owners of runs: local ones are watched
        for c, expires in await self._store.running():
            if gone(c.lease_owner, expires):
                why = "its lease expired" if expires is None or expires <= now else "it is gone"
                crashed.append((c, c.lease_owner, why))
            else:
                holders.add(c.lease_owner)
        reserved: dict[int, str] = {}
        early: dict[str, list[int]] = {}
        instants: list[float] = []
        rows = await self._store.reservations()
        # This pool's own reservations it no longer knows of (the reserve committed
        # but its answer was lost to a cut connection): released, so any worker claims
        # them. What it knows is read after the query: a run reserved meanwhile is in it.
        known = self._prepared.keys() | self._preparing_ids | self._held
        known |= {p.claimed.run_id for p in self._ready}
        forgotten: list[int] = []
        for run_id, owner, expires, not_before in rows:
            if owner == self.worker_id:
                if run_id not in known:
                    forgotten.append(run_id)
                continue
            if not gone(owner, expires):
                holders.add(owner)
            elif not_before <= now:
                reserved[run_id] = owner
            else:  # not due yet: nobody started it; let any worker claim it when due
                early.setdefault(owner, []).append(run_id)
                instants.append(not_before.timestamp())
        # Kept until seen dead: a peer holding nothing at this pass may reserve runs next.
        self._peers |= {o for o in holders if o != self.worker_id and _local_pid(o) is not None}
        if forgotten and await self._store.release(forgotten, owner=self.worker_id):
            log.info("workers: released %d reservation(s) lost to a cut connection", len(forgotten))
            self._next_poll = 0.0
        for owner, run_ids in early.items():
            await self._store.release(run_ids, owner=owner)
        # Claimed by the first worker to poll at their instant, not a poll later.
        self._expect(instants)
        if reserved:
            taken = await self._store.claim_ids(
                self.worker_id, list(reserved), now=now, lease=self._lease
            )
            crashed += [(c, reserved[c.run_id], "it reserved the run and is gone") for c in taken]
        if not crashed:
            return 0
        tasks = await self._store.tasks(c.task_id for c, _, _ in crashed)
        outcomes = []
        for c, owner, why in crashed:
            error = f"{CRASHED} worker {owner} stopped during attempt {c.attempt} ({why})"
            outcomes.append(
                self._outcome(c, tasks.get(c.task_id), RunStatus.FAILED, None, error, "crash", None)
            )
        retries = await self._store.finish_many(outcomes, now=now)
        if retries:
            self._retries_written(retries)
        log.warning("workers: recovered %d crashed run(s)", len(outcomes))
        return len(outcomes)


_SCHEDULED = frozenset({RunTrigger.SCHEDULE, RunTrigger.MISFIRE})
_EVENTFUL = frozenset({RunTrigger.EVENT, RunTrigger.RETRY})


def _live(task: Task) -> bool:
    return task.enabled and task.status == TaskStatus.OPEN and task.deleted_at is None


def _step_not_run(task: Task) -> tuple[RunStatus, str] | None:
    """Why a workflow step released to a paused or deleted task does not run.

    Paused: the step is ``blocked`` (what follows it is blocked in turn and the
    pass ends failed at it) — resume the task, then rerun it or "run it anyway"
    to go on. Deleted: ``skipped``, as a step that is no longer there.
    """
    if task.deleted_at is not None or task.status == TaskStatus.DELETED:
        return RunStatus.SKIPPED, f"skipped: '{task.title}' was deleted"
    if task.status == TaskStatus.PAUSED or not task.enabled:
        return (
            RunStatus.BLOCKED,
            f"blocked: '{task.title}' is paused (resume it, then rerun it to go on)",
        )
    return None


def _timeout_of(task: Task, default: float) -> float:
    value: Any = (task.action or {}).get("timeout_seconds")
    return float(value) if isinstance(value, int | float) and value > 0 else default


def _not_before(run: FiredRun) -> datetime:
    return run.scheduled_for if run.not_before is None else run.not_before
