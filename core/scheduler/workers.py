"""The worker pool: claims runs, executes them with bounded concurrency, records outcomes.

Runs arrive two ways: the local engine hands new run ids straight in
(``submit``), and the pool claims due pending runs from the database (runs fired
by other replicas, retries whose back-off has passed, runs left pending by a
restart). Either way a run executes only after a successful lease in the
database, so each run executes once across replicas.

Outcomes are written by one flusher task in batches (group commit): a worker
waits for its outcome to be durable, but a thousand workers share one commit.
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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.enums import RunStatus, RunTrigger, TaskStatus
from core.errors import InvalidInput, KairosError, NotConfigured, PermissionDenied
from core.executors.registry import ExecutorRegistry, NoExecutor
from core.jobs import Job, TaskSnapshot
from core.models import Task
from core.ports import Clock
from core.scheduler import timing
from core.scheduler.waiting import sleep_or_event
from core.store.runs import ClaimedRun, FiredRun, Outcome, RunStore

log = logging.getLogger(__name__)

# Worker ids created by this process: a run leased by our own pid under another
# id belongs to an earlier incarnation (a container restarting with the same pid).
_OWN_IDS: set[str] = set()


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
    """Tuning of a ``WorkerPool`` (defaults suit a chat bot; the bench raises them)."""

    concurrency: int = 16
    lease_seconds: float = 60.0
    poll_seconds: float = 1.0
    timeout_seconds: float = 300.0
    drain_seconds: float = 10.0


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
        name: str = "kairos-workers",
    ) -> None:
        self._store = store
        self._executors = executors
        self._clock = clock
        self._settings = settings or PoolSettings()
        self.worker_id = worker_id or new_worker_id()
        _OWN_IDS.add(self.worker_id)
        self._rng = rng or random.Random()
        self._name = name
        self._lease = timedelta(seconds=self._settings.lease_seconds)
        self._local: deque[int] = deque()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._kick = asyncio.Event()
        self._stop = asyncio.Event()
        self._outcomes: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._flush_kick = asyncio.Event()
        self._next_poll = 0.0
        self._last_recover = 0.0
        self._loops: list[asyncio.Task[None]] = []
        self._flusher: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        """Recover runs of crashed workers, then start dispatching."""
        self._stop.clear()
        self._flusher = asyncio.create_task(self._flush_loop(), name=f"{self._name}-flusher")
        await self.recover()
        self._loops = [
            asyncio.create_task(self._dispatch_loop(), name=f"{self._name}-dispatcher"),
            asyncio.create_task(self._heartbeat_loop(), name=f"{self._name}-heartbeat"),
        ]

    async def stop(self) -> None:
        """Stop claiming, let running executions finish (``drain_seconds``), then cancel."""
        self._stop.set()
        self._kick.set()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        running = list(self._inflight.values())
        if running:
            _done, late = await asyncio.wait(running, timeout=self._settings.drain_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._flusher is not None:
            self._flush_kick.set()
            await self._flusher
            self._flusher = None

    @property
    def busy(self) -> int:
        """Runs executing right now."""
        return len(self._inflight)

    # --- RunSink ------------------------------------------------------------

    def submit(self, runs: Sequence[FiredRun]) -> None:
        """Queue new pending runs from the local engine (claimed before they execute)."""
        self._local.extend(r.run_id for r in runs)
        self._kick.set()

    # --- dispatching ----------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            self._kick.clear()
            try:
                more = await self._dispatch_once()
            except Exception:
                log.exception("workers: claiming runs failed; retrying")
                more = False
                self._next_poll = self._clock.now().timestamp() + self._settings.poll_seconds
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
        free = self._settings.concurrency - len(self._inflight)
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
        has_room = len(self._inflight) < self._settings.concurrency
        return has_room and (bool(self._local) or saturated)

    async def _wait(self, seconds: float) -> None:
        await sleep_or_event(self._clock, seconds, self._kick, name=f"{self._name}-dispatcher")

    async def _start(self, claimed: list[ClaimedRun]) -> None:
        tasks = await self._store.tasks(c.task_id for c in claimed)
        for c in claimed:
            job = asyncio.create_task(
                self._execute(c, tasks.get(c.task_id)), name=f"kairos-run-{c.run_id}"
            )
            self._inflight[c.run_id] = job
            job.add_done_callback(self._done)

    def _done(self, job: asyncio.Task[None]) -> None:
        run_id = int(job.get_name().rsplit("-", 1)[1])
        self._inflight.pop(run_id, None)
        self._kick.set()  # a slot is free

    # --- executing ----------------------------------------------------------

    async def _execute(self, claimed: ClaimedRun, task: Task | None) -> None:
        if task is not None and claimed.trigger in _SCHEDULED and not _live(task):
            # Paused, completed or deleted after the run was written (possibly by
            # another replica): the fire is recorded as skipped, not executed.
            await self._record(
                Outcome(
                    claimed.run_id,
                    claimed.lease_owner,
                    RunStatus.SKIPPED,
                    error="skipped: the task was paused, completed or deleted before this fire",
                )
            )
            return
        started = time.perf_counter()
        status, output, error, kind = RunStatus.COMPLETED, None, None, "error"
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
            )
            async with asyncio.timeout(timeout):
                result = await executor.execute(job)
            output = result.output
        except TimeoutError:
            status, kind = RunStatus.FAILED, "timeout"
            error = f"timeout: no result after {timeout:g} s"
        except asyncio.CancelledError:
            status, kind = RunStatus.FAILED, "interrupted"
            error = "interrupted: the scheduler stopped while this attempt ran"
        except KairosError as exc:
            status, kind, error = RunStatus.FAILED, _kind_of(exc), exc.user_message()
        except Exception as exc:  # an executor's bug fails its run, never the pool
            status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        duration_ms = int((time.perf_counter() - started) * 1000)
        outcome = self._outcome(claimed, task, status, output, error, kind, duration_ms)
        if status is not RunStatus.COMPLETED:
            log.warning(
                "run %s (task %s, attempt %d) %s: %s",
                claimed.run_id,
                claimed.task_id,
                claimed.attempt,
                outcome.status.value,
                error,
            )
        await self._record(outcome)

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

    # --- recording (group commit) ---------------------------------------------

    async def _record(self, outcome: Outcome) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outcomes.append((outcome, future))
        self._flush_kick.set()
        await asyncio.shield(future)

    async def _flush_loop(self) -> None:
        while True:
            await self._flush_kick.wait()
            self._flush_kick.clear()
            batch, self._outcomes = self._outcomes, []
            if batch:
                await self._flush(batch)
            elif self._stop.is_set() and not self._inflight:
                return

    async def _flush(self, batch: list[tuple[Outcome, asyncio.Future[None]]]) -> None:
        for attempt in range(3):
            try:
                retries = await self._store.finish_many(
                    [o for o, _ in batch], now=self._clock.now()
                )
                break
            except Exception:
                log.exception(
                    "workers: recording %d outcome(s) failed (try %d)", len(batch), attempt + 1
                )
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            # Left running under our lease: recovery marks them crashed later.
            retries = []
        for _, future in batch:
            if not future.done():
                future.set_result(None)
        if retries:
            self._next_poll = min(self._next_poll, min(_not_before(r) for r in retries).timestamp())
            self._kick.set()
        self._flush_kick.set()  # re-check for outcomes queued meanwhile / stop

    # --- leases and recovery ----------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        interval = self._settings.lease_seconds / 3
        while not self._stop.is_set():
            await self._wait_stop(interval)
            if self._inflight:
                until = self._clock.now() + self._lease
                try:
                    await self._store.renew(self.worker_id, list(self._inflight), until=until)
                except Exception:
                    log.exception("workers: renewing leases failed")

    async def _wait_stop(self, seconds: float) -> None:
        await sleep_or_event(self._clock, seconds, self._stop, name=f"{self._name}-heartbeat")

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
            error = f"crashed: worker {c.lease_owner} stopped during attempt {c.attempt} ({why})"
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
