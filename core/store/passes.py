"""Workflow passes: start one, rerun a step and what follows, clear a failure, force a step.

Each command writes its runs and the release they cause in one transaction,
the same way ``RunStore.finish_many`` does for runs that finish on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import Database
from core.enums import RunStatus, RunTrigger
from core.errors import Conflict, InvalidInput, NotFound
from core.store.release import (
    DEPS,
    PASSES,
    PERSON,
    RUNS,
    Finished,
    load_graph,
    load_pass,
    release,
)
from core.store.run_types import FiredRun, NewRun
from core.store.runs import RunStore
from core.workflows.graph import Graph
from core.workflows.propagation import RunState

#: Statuses of a step that a rerun or "run it anyway" may replace.
_REPLACEABLE = frozenset(
    {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.SKIPPED,
        RunStatus.BLOCKED,
        RunStatus.CANCELLED,
    }
)


@dataclass(frozen=True, slots=True)
class PassView:
    """A pass as shown to people: its row, its graph, the latest run of each step."""

    pass_id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    failed_step: str | None
    graph: Graph
    latest: dict[int, RunState]


class PassStore:
    """Workflow passes on one ``Database``; runs go through ``RunStore``."""

    def __init__(self, db: Database, runs: RunStore | None = None) -> None:
        self.db = db
        self._runs = runs or RunStore(db)

    async def start(
        self,
        workflow_id: int,
        *,
        started_by: int | None,
        now: datetime,
        conn: AsyncConnection | None = None,
    ) -> tuple[int, list[FiredRun]]:
        """Start a pass of the whole workflow: its first steps get runs now.

        On ``conn`` (a transaction the caller commits) when given, else in its own.
        """
        if conn is not None:
            return await self._start(conn, workflow_id, started_by, now)
        async with self.db.engine.begin() as own:
            return await self._start(own, workflow_id, started_by, now)

    async def _start(
        self, conn: AsyncConnection, workflow_id: int, started_by: int | None, now: datetime
    ) -> tuple[int, list[FiredRun]]:
        graph = await load_graph(conn, workflow_id, None)
        if not graph.nodes:
            raise InvalidInput(
                "This workflow has no steps yet.", hint="Add tasks to it, then start it."
            )
        graph.order  # refuses a graph with a loop  # noqa: B018
        pass_id = (
            await conn.execute(
                sa.insert(PASSES)
                .values(
                    workflow_id=workflow_id,
                    status="running",
                    started_by=started_by,
                    started_at=now,
                )
                .returning(PASSES.c.id)
            )
        ).scalar_one()
        fired = await self._runs.write_runs(
            conn,
            [
                NewRun(
                    t,
                    now,
                    RunTrigger.MANUAL,
                    not_before=PERSON if graph.nodes[t].person else now,
                    workflow_run_id=pass_id,
                )
                for t in graph.roots
            ],
            now,
        )
        return pass_id, fired

    async def rerun(self, pass_id: int, task_id: int, *, now: datetime) -> list[FiredRun]:
        """Run a step again; every step after it is decided again when it ends."""
        async with self.db.engine.begin() as conn:
            _, person = await self._replaceable(conn, pass_id, task_id, "rerun")
            return await self._reopen(conn, pass_id, task_id, person, now)

    async def run_anyway(self, pass_id: int, task_id: int, *, now: datetime) -> list[FiredRun]:
        """Run a blocked or skipped step whatever its prerequisites did (an override)."""
        async with self.db.engine.begin() as conn:
            state, person = await self._replaceable(conn, pass_id, task_id, "run")
            if state.status not in (RunStatus.BLOCKED, RunStatus.SKIPPED):
                raise Conflict(
                    f"That step is {state.status}, not blocked or skipped.",
                    hint="Say 'rerun' to run a step that ran already.",
                )
            return await self._reopen(conn, pass_id, task_id, person, now)

    async def clear(
        self, pass_id: int, task_id: int, *, note: str, now: datetime
    ) -> list[FiredRun]:
        """Set a step's failure aside: it counts as completed and what follows is released."""
        ended: list[int] = []
        async with self.db.engine.begin() as conn:
            state, _ = await self._replaceable(conn, pass_id, task_id, "clear")
            if state.status not in (RunStatus.FAILED, RunStatus.BLOCKED, RunStatus.CANCELLED):
                raise Conflict(
                    f"That step is {state.status}: there is no failure to clear.",
                    hint="Clear a step that failed or is blocked.",
                )
            written = await self._new_run(conn, pass_id, task_id, not_before=now, now=now)
            run_id = written[0].run_id
            await conn.execute(
                sa.update(RUNS)
                .where(RUNS.c.id == run_id)
                .values(status=RunStatus.COMPLETED.value, finished_at=now, output=note)
            )
            fired = await self._release(
                conn, [Finished(run_id, task_id, pass_id, RunStatus.COMPLETED)], now, ended
            )
        self._tell(ended)
        return fired

    async def complete_step(self, task_id: int, *, now: datetime, note: str) -> list[FiredRun]:
        """A person finished a step that was waiting for them: its run completes."""
        ended: list[int] = []
        fired = await self._complete_step(task_id, now=now, note=note, ended=ended)
        self._tell(ended)
        return fired

    async def _complete_step(
        self, task_id: int, *, now: datetime, note: str, ended: list[int]
    ) -> list[FiredRun]:
        async with self.db.engine.begin() as conn:
            row = (
                await conn.execute(
                    sa.update(RUNS)
                    .where(
                        RUNS.c.task_id == task_id,
                        RUNS.c.workflow_run_id.is_not(None),
                        RUNS.c.status == RunStatus.PENDING.value,
                        RUNS.c.not_before >= PERSON,
                    )
                    .values(status=RunStatus.COMPLETED.value, finished_at=now, output=note)
                    .returning(RUNS.c.id, RUNS.c.workflow_run_id)
                )
            ).all()
            if row:
                return await self._release(
                    conn,
                    [Finished(r[0], task_id, r[1], RunStatus.COMPLETED) for r in row],
                    now,
                    ended,
                )
            # Not waited for in a pass: a person finishing a task others wait for starts
            # a pass at it (``release`` joins runs of tasks with successors to one).
            follows = await conn.execute(
                sa.select(DEPS.c.successor_id).where(DEPS.c.predecessor_id == task_id).limit(1)
            )
            if follows.first() is None:
                return []
            done = NewRun(
                task_id, now, RunTrigger.MANUAL, skip_reason=note, skip_status=RunStatus.COMPLETED
            )
            written = await self._runs.write_runs(conn, [done], now)
            if not written:
                return []
            await conn.execute(
                sa.update(RUNS)
                .where(RUNS.c.id == written[0].run_id)
                .values(output=note, error=None)
            )
            released = await release(
                conn, [Finished(written[0].run_id, task_id, None, RunStatus.COMPLETED)], now=now
            )
            return await self._runs.write_runs(conn, released.runs, now)

    async def view(self, pass_id: int) -> PassView:
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        PASSES.c.status,
                        PASSES.c.started_at,
                        PASSES.c.finished_at,
                        PASSES.c.failed_step,
                    ).where(PASSES.c.id == pass_id)
                )
            ).first()
            state = await load_pass(conn, pass_id)
        if row is None or state is None:
            raise NotFound(f"There is no workflow run {pass_id}.")
        return PassView(pass_id, row[0], row[1], row[2], row[3], state.graph, state.latest)

    # --- helpers ----------------------------------------------------------

    async def _replaceable(
        self, conn: AsyncConnection, pass_id: int, task_id: int, verb: str
    ) -> tuple[RunState, bool]:
        state = await load_pass(conn, pass_id, lock=conn.dialect.name == "postgresql")
        if state is None:
            raise NotFound(f"There is no workflow run {pass_id}.")
        if task_id not in state.graph.nodes:
            raise NotFound(
                f"Task #{task_id} is not a step of that workflow.",
                hint="Show the workflow to see its steps.",
            )
        current = state.latest.get(task_id)
        title = state.graph.nodes[task_id].title
        if current is None:
            raise Conflict(
                f"'{title}' has not been reached in run {pass_id}; there is nothing to {verb}.",
                hint="Wait for the steps before it, or start the workflow again.",
            )
        if current.status not in _REPLACEABLE:
            raise Conflict(
                f"'{title}' is {current.status} right now; it cannot be {verb} again yet.",
                hint="Wait until it has finished.",
            )
        return current, state.graph.nodes[task_id].person

    async def _reopen(
        self, conn: AsyncConnection, pass_id: int, task_id: int, person: bool, now: datetime
    ) -> list[FiredRun]:
        fired = await self._new_run(
            conn, pass_id, task_id, not_before=PERSON if person else now, now=now
        )
        await conn.execute(
            sa.update(PASSES)
            .where(PASSES.c.id == pass_id)
            .values(
                status="running",
                finished_at=None,
                failed_step=None,
                notified_at=None,
                reopened=True,
            )
        )
        return fired

    async def _new_run(
        self,
        conn: AsyncConnection,
        pass_id: int,
        task_id: int,
        *,
        not_before: datetime,
        now: datetime,
    ) -> list[FiredRun]:
        """A manual run of a step; its key moves past a run released in the same microsecond."""
        for bump in range(8):
            at = now + timedelta(microseconds=bump)
            run = NewRun(
                task_id, at, RunTrigger.MANUAL, not_before=not_before, workflow_run_id=pass_id
            )
            fired = await self._runs.write_runs(conn, [run], now)
            if fired:
                return fired
        raise Conflict("That step was just started; try again in a moment.")

    def _tell(self, ended: list[int]) -> None:
        """After the commit: passes that ended, to the run store's listener (notices)."""
        if ended and self._runs.on_workflow_ended is not None:
            self._runs.on_workflow_ended(ended)

    async def _release(
        self,
        conn: AsyncConnection,
        finished: list[Finished],
        now: datetime,
        ended: list[int] | None = None,
    ) -> list[FiredRun]:
        await conn.execute(
            sa.update(PASSES)
            .where(PASSES.c.id.in_({f.workflow_run_id for f in finished}))
            .values(
                status="running",
                finished_at=None,
                failed_step=None,
                notified_at=None,
                reopened=True,
            )
        )
        released = await release(conn, finished, now=now)
        if ended is not None:
            ended.extend(p for p, _ in released.ended)
        return await self._runs.write_runs(conn, released.runs, now)
