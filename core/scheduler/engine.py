"""The scheduler engine: one asyncio task sleeping until the earliest fire is due.

The engine holds a heap of ``(fire timestamp, task id)`` for enabled scheduled
tasks, rebuilt from ``tasks.next_fire_at`` (the durable cursor) on start. It
sleeps on the injected clock until the head is due or until ``task_changed``
wakes it for an earlier entry: no polling loop and no per-task timers. Due tasks
are fired in batches: one transaction inserts their runs and advances their
cursors (idempotently, see ``core.store.runs``), then the new run ids go
straight to the worker pool.

Fires due within ``lookahead_seconds`` are written ahead of time: their run rows
are committed as ``pending`` with ``not_before`` = the fire time (no worker may
claim them earlier) and the cursor moves on. At the due instant only the
in-memory hand-off to the workers remains, so a burst of thousands of fires in
one second is not late by the time it takes to write them. A staged run whose
task is paused, deleted or rescheduled before its instant is cancelled with that
reason; if the process dies meanwhile, the rows are claimed from the database
when due, like any pending run.

Other processes write too (replicas, the CLI): ``core.scheduler.changes``
feeds their committed changes into ``tasks_changed`` within a second, and the
store itself cancels runs staged ahead of a change (``core.store.changes``), so
an edit, pause or delete made anywhere wins over a staged run. A task fired by
another replica is harmless here: every fire re-reads the task and moves its
cursor with a compare-and-set.

When a fire batch fails (database down), the tasks go back into the heap and
the loop holds all fires for an exponentially growing, jittered delay (up to
30 s), logging once when the database goes away and once when it is back.

Late fires go through the misfire policy (``core.scheduler.timing``): fires
older than the grace window are recorded as ``skipped`` runs with a reason,
never silently dropped. That covers restarts, pauses and a stalled loop alike.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from core.enums import RunStatus, RunTrigger
from core.errors import Conflict, NotFound
from core.ports import Clock, Metrics, MissedFires, NullMetrics
from core.scheduler.outage import Outage, Probe
from core.scheduler.planner import FirePlanner
from core.scheduler.waiting import sleep_or_event
from core.store.runs import CursorMove, FiredRun, FireInfo, NewRun, RunStore

log = logging.getLogger(__name__)

#: Longest single sleep; re-reading the clock this often keeps the engine honest
#: when the wall clock is stepped (NTP, suspend) while asyncio sleeps on monotonic time.
MAX_SLEEP_SECONDS = 60.0
#: How far ahead fires are written (see the module docstring).
LOOKAHEAD_SECONDS = 2.0


class RunSink(Protocol):
    """Where fired runs go (the worker pool's in-memory queue)."""

    def submit(self, runs: Sequence[FiredRun]) -> None:
        """Accept new pending runs for execution; must not block."""
        ...

    def prepare(self, runs: Sequence[FiredRun]) -> None:
        """Runs staged ahead of their instant (``submit`` follows at it); must not block."""
        ...


class SchedulerEngine:
    """Fires due tasks into runs; implements ``core.ports.TaskListener``.

    Construct with the run store, a clock and a sink (normally a ``WorkerPool``),
    then ``await start()``; ``await stop()`` ends the loop. Wire it as the task
    service's listener so schedule changes wake it.
    """

    def __init__(
        self,
        *,
        store: RunStore,
        clock: Clock,
        sink: RunSink,
        batch_limit: int = 5000,
        lookahead_seconds: float = LOOKAHEAD_SECONDS,
        name: str = "kairos-engine",
        metrics: Metrics | None = None,
        rng: random.Random | None = None,
        probe: Probe | None = None,
        missed: MissedFires | None = None,
    ) -> None:
        self._missed = missed
        # Notices of skipped fires in flight (held so they are not collected mid-way).
        self._telling: set[asyncio.Task[None]] = set()
        self._store = store
        self._clock = clock
        self._sink = sink
        self._batch_limit = batch_limit
        self._lookahead = lookahead_seconds
        self._name = name
        self._planner = FirePlanner()
        self._heap: list[tuple[float, int]] = []
        self._due: dict[int, float] = {}  # task id → its live heap timestamp
        self._firing: set[int] = set()
        self._dirty: set[int] = set()
        # Runs written ahead, waiting for their instant: a heap of (due, run id,
        # task id), and per task the staged run and the cursor written after it.
        self._staged: list[tuple[float, int, int]] = []
        self._staged_by_task: dict[int, tuple[FiredRun, datetime | None]] = {}
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._metrics = metrics or NullMetrics()
        self._outage = Outage(
            "engine",
            logger=log,
            metrics=self._metrics,
            rng=rng,
            probe=probe,
            on_back=self._database_back,
        )
        #: No fires before this timestamp (clock time): the back-off after a failed batch.
        self._hold_until = 0.0
        #: While the loop sleeps: the clock timestamp it sleeps towards (``None`` while busy).
        self._asleep_until: float | None = None

    # --- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the heap from the database and start the loop task."""
        if self._task is not None:
            return
        await self.rebuild()
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name=self._name)

    async def stop(self) -> None:
        """Stop the loop; a fire batch in progress completes first."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._telling:
            await asyncio.gather(*self._telling, return_exceptions=True)

    async def rebuild(self) -> int:
        """Load every schedulable task's cursor; returns how many are scheduled."""
        self._due = dict(await self._store.cursor_stamps())
        self._heap = [(ts, tid) for tid, ts in self._due.items()]
        heapq.heapify(self._heap)
        return len(self._heap)

    @property
    def scheduled(self) -> int:
        """How many tasks currently have a next fire in the heap."""
        return len(self._due)

    def idle_past(self, ts: float) -> bool:
        """Whether the loop sleeps with nothing to do before clock time ``ts`` (tests
        wait on this instead of sleeping and hoping the engine has caught up)."""
        return (
            self._asleep_until is not None
            and self._asleep_until > ts
            and not self._wake.is_set()
            and not self._firing
        )

    def next_due(self) -> float | None:
        """The earliest live fire timestamp, if any (for status displays)."""
        return min(self._due.values(), default=None)

    # --- TaskListener and commands -----------------------------------------

    async def task_changed(self, task_id: int) -> None:
        """Re-read the task's cursor and reschedule (or drop) it."""
        await self.tasks_changed([task_id])

    async def task_created(self, task_id: int, next_fire_at: datetime | None) -> None:
        """Schedule a task the service has just created, at its committed cursor.

        A new task has no runs and nothing staged, so the cursor it was written
        with is all the engine needs: no read. If the engine already holds the
        task (a rebuild or another change got there first), it re-reads instead.
        A cursor that went stale meanwhile is harmless: ``_fire`` re-reads every
        task before writing its run.
        """
        if task_id in self._due or task_id in self._firing or task_id in self._staged_by_task:
            await self.tasks_changed([task_id])
        elif next_fire_at is not None:
            self._push(task_id, next_fire_at.timestamp())

    async def tasks_changed(self, task_ids: Sequence[int]) -> None:
        """``task_changed`` for many tasks with one read (bulk imports)."""
        # A task being fired is re-read when the fire is done; a push now could
        # lose the race against the fire's own push.
        self._dirty.update(tid for tid in task_ids if tid in self._firing)
        ids = [tid for tid in task_ids if tid not in self._firing]
        by_id = {i.task_id: i for i in await self._store.fire_info(ids)}
        for tid in ids:
            await self._refresh(tid, by_id.get(tid))

    async def _refresh(self, task_id: int, info: FireInfo | None) -> None:
        staged = self._staged_by_task.get(task_id)
        if staged is not None:
            run, written_cursor = staged
            cursor = info.next_fire_at if info is not None else None
            still = (
                info is not None
                and info.schedulable
                and (cursor == written_cursor or cursor == run.scheduled_for)
            )
            if not still:
                del self._staged_by_task[task_id]
                await self._store.cancel(
                    run.run_id,
                    now=self._clock.now(),
                    reason="cancelled: the task was changed, paused or deleted before this fire",
                )
        self._apply(task_id, info)

    async def run_now(self, task_id: int) -> FiredRun:
        """Start a manual run of the task now (its schedule is untouched)."""
        if not await self._store.fire_info([task_id]):
            raise NotFound(f"There is no task {task_id}.", hint="List tasks to see their ids.")
        now = self._clock.now()
        fired = await self._store.fire_many([NewRun(task_id, now, RunTrigger.MANUAL)], now=now)
        if not fired:  # same task, same microsecond: that run exists already
            raise NotFound(f"Task {task_id} was just started; try again.")
        self._sink.submit(fired)
        return fired[0]

    async def run_at(self, task_id: int, when: datetime) -> FiredRun:
        """One extra run at ``when`` (a snooze), outside the task's schedule.

        The run row is durable at once with ``not_before = when``; workers claim
        it from the database when it is due, so a restart in between loses nothing.
        """
        if not await self._store.fire_info([task_id]):
            raise NotFound(f"There is no task {task_id}.", hint="List tasks to see their ids.")
        fired = await self._store.fire_many(
            [NewRun(task_id, when, RunTrigger.MANUAL, not_before=when)], now=self._clock.now()
        )
        if not fired:
            raise Conflict(
                f"Task {task_id} already has a run at that moment.", hint="Pick another time."
            )
        return fired[0]

    async def cancel(self, run_id: int) -> bool:
        """Cancel a pending run; ``False`` if it already started or ended."""
        return await self._store.cancel(run_id, now=self._clock.now())

    async def emit(self, event: str) -> list[FiredRun]:
        """Fire every enabled task whose schedule listens for ``event``."""
        now = self._clock.now()
        candidates = await self._store.event_tasks(event)
        runs = [
            NewRun(tid, now, RunTrigger.EVENT)
            for tid, schedule in candidates
            if self._planner.listens_for(schedule, event)
        ]
        fired = await self._store.fire_many(runs, now=now)
        self._sink.submit(fired)
        return fired

    # --- the heap ----------------------------------------------------------

    def _apply(self, task_id: int, info: FireInfo | None) -> None:
        if info is None or not info.schedulable or info.next_fire_at is None:
            self._due.pop(task_id, None)  # its heap entry turns stale and is skipped
            return
        self._push(task_id, info.next_fire_at.timestamp())

    def _push(self, task_id: int, ts: float) -> None:
        if self._due.get(task_id) == ts:
            return
        head = self._heap[0][0] if self._heap else None
        self._due[task_id] = ts
        heapq.heappush(self._heap, (ts, task_id))
        if head is None or ts < head:
            self._wake.set()  # the loop may be sleeping towards a later head

    def _pop_due(self, now_ts: float) -> list[int]:
        due: list[int] = []
        heap, live = self._heap, self._due
        while heap and heap[0][0] <= now_ts and len(due) < self._batch_limit:
            ts, tid = heapq.heappop(heap)
            if live.get(tid) == ts:
                del live[tid]
                due.append(tid)
        return due

    # --- the loop ----------------------------------------------------------

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            now = self._clock.now()
            now_ts = now.timestamp()
            self._release(now_ts)
            held = now_ts < self._hold_until
            due = [] if held else self._pop_due(now_ts + self._lookahead)
            if due:
                try:
                    await self._fire(due, now)
                except Exception as exc:
                    # Nothing was committed and the tasks are back in the heap; hold
                    # every fire (they would all fail alike) rather than spin.
                    self._hold_until = now_ts + self._outage.failed(exc, "firing due tasks")
                else:
                    self._outage.ok()
                continue
            # Drop stale heads so the sleep targets a live entry.
            while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
                heapq.heappop(self._heap)
            wake_at = now_ts + MAX_SLEEP_SECONDS
            if self._heap:
                head = self._heap[0][0] - self._lookahead
                wake_at = min(wake_at, max(head, self._hold_until) if held else head)
            if self._staged:
                wake_at = min(wake_at, self._staged[0][0])
            await self._wait(wake_at - now_ts)

    def _database_back(self) -> None:
        """The probe saw the database answer: fire what is due now, not after the back-off."""
        self._hold_until = 0.0
        self._wake.set()

    def _release(self, now_ts: float) -> None:
        """Hand every staged run whose instant has come to the workers."""
        ready: list[FiredRun] = []
        while self._staged and self._staged[0][0] <= now_ts:
            _, run_id, task_id = heapq.heappop(self._staged)
            staged = self._staged_by_task.get(task_id)
            if staged is not None and staged[0].run_id == run_id:
                del self._staged_by_task[task_id]
                ready.append(staged[0])
        if ready:
            self._sink.submit(ready)

    async def _wait(self, seconds: float) -> None:
        self._asleep_until = self._clock.now().timestamp() + seconds
        try:
            await sleep_or_event(self._clock, seconds, self._wake, name=self._name)
        finally:
            self._asleep_until = None

    async def _fire(self, task_ids: list[int], now: datetime) -> None:
        self._firing.update(task_ids)
        horizon = now + timedelta(seconds=self._lookahead)
        try:
            infos = await self._store.fire_info(task_ids)
            runs: list[NewRun] = []
            moves: list[CursorMove] = []
            pushes: list[tuple[int, float]] = []
            for info in infos:
                cursor = info.next_fire_at
                if not info.schedulable or cursor is None:
                    continue
                if cursor > horizon:  # moved by someone else meanwhile
                    pushes.append((info.task_id, cursor.timestamp()))
                    continue
                plan = self._planner.plan(info, cursor, now)
                runs.extend(plan.runs)
                moves.append(CursorMove(info.task_id, cursor, plan.next_fire_at))
                if plan.next_fire_at is not None:
                    pushes.append((info.task_id, plan.next_fire_at.timestamp()))
            fired = await self._store.fire_many(runs, moves, now=now)
        except Exception:
            # Nothing was committed: put the tasks back (they are re-read when fired
            # again, so a change that arrived meanwhile is seen then).
            self._firing.difference_update(task_ids)
            self._dirty.difference_update(task_ids)
            retry_at = now.timestamp()
            for tid in task_ids:
                self._due[tid] = retry_at
                heapq.heappush(self._heap, (retry_at, tid))
            raise
        self._metrics.fired(len(fired))
        self._tell_missed(fired)
        now_ts = now.timestamp()
        cursors = {m.task_id: m.new for m in moves}
        ready: list[FiredRun] = []
        for f in fired:
            if f.status is not RunStatus.PENDING:
                continue
            at = (f.not_before or f.scheduled_for).timestamp()
            if at <= now_ts:
                ready.append(f)
            else:
                self._staged_by_task[f.task_id] = (f, cursors.get(f.task_id))
                heapq.heappush(self._staged, (at, f.run_id, f.task_id))
        if ready:
            self._sink.submit(ready)
        if len(ready) < len(fired):
            staged = [f for f in fired if self._staged_by_task.get(f.task_id, (None,))[0] is f]
            self._sink.prepare(staged)
        for tid, ts in pushes:
            if tid not in self._dirty:
                self._push(tid, ts)
        await self._clear_firing(task_ids)

    def _tell_missed(self, fired: list[FiredRun]) -> None:
        """Hand the fires this batch skipped to ``missed``, one call per task, off the loop."""
        if self._missed is None:
            return
        skipped: dict[int, list[datetime]] = {}
        late = set()
        for f in fired:
            if f.status is RunStatus.SKIPPED:
                skipped.setdefault(f.task_id, []).append(f.scheduled_for)
            else:
                late.add(f.task_id)
        for task_id, fires in skipped.items():
            work = self._missed_one(task_id, sorted(fires), late_run=task_id in late)
            task = asyncio.create_task(work, name=f"{self._name}-missed-{task_id}")
            self._telling.add(task)
            task.add_done_callback(self._telling.discard)

    async def _missed_one(self, task_id: int, fires: list[datetime], *, late_run: bool) -> None:
        assert self._missed is not None
        try:
            await self._missed.missed(task_id, fires, late_run=late_run)
        except Exception:
            # A notice that could not be posted never stops the engine; the skipped
            # runs stay recorded with their reason.
            log.exception("could not tell about %d skipped fire(s) of task %s", len(fires), task_id)

    async def _clear_firing(self, task_ids: list[int]) -> None:
        self._firing.difference_update(task_ids)
        dirty = [tid for tid in task_ids if tid in self._dirty]
        if dirty:
            self._dirty.difference_update(dirty)
            try:
                by_id = {i.task_id: i for i in await self._store.fire_info(dirty)}
                for tid in dirty:
                    await self._refresh(tid, by_id.get(tid))
            except Exception:
                # The batch itself is committed; re-read these when the database
                # answers again (a fire re-reads the task before writing anything).
                log.warning("scheduler: re-reading %d changed task(s) failed", len(dirty))
                at = self._clock.now().timestamp()
                for tid in dirty:
                    self._push(tid, at)
