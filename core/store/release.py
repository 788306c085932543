"""Release inside the transaction that records finishing runs (no polling).

``release`` is called by ``RunStore.finish_many`` (and by the workflow
commands) on the connection that has just written how runs ended. For every
workflow pass those runs belong to, it locks the pass (PostgreSQL: the
``workflow_runs`` row, so two prerequisites finishing at once in two
transactions decide their common successor one after the other), loads the
pass, asks ``core.workflows.propagation`` what the finished runs release, and
returns the runs to insert; passes that ended are marked in the same
transaction.

A run of a task with successors that belongs to no pass (a scheduled or manual
run of a workflow's task, or of a task in an ad-hoc chain) starts a pass at
that task.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from core.enums import RunStatus, RunTrigger
from core.store.run_types import NewRun
from core.workflows.graph import Graph, Node
from core.workflows.propagation import Ending, Pass, RunState
from core.workflows.rules import FailureMode, TriggerRule, Verdict

RUNS: sa.Table = SQLModel.metadata.tables["runs"]
TASKS: sa.Table = SQLModel.metadata.tables["tasks"]
DEPS: sa.Table = SQLModel.metadata.tables["task_dependencies"]
WORKFLOWS: sa.Table = SQLModel.metadata.tables["workflows"]
PASSES: sa.Table = SQLModel.metadata.tables["workflow_runs"]

#: Run statuses that settle a task in a pass (a retrying run is followed by its retry).
SETTLED = frozenset(
    {
        RunStatus.COMPLETED,
        RunStatus.FAILED,
        RunStatus.SKIPPED,
        RunStatus.BLOCKED,
        RunStatus.CANCELLED,
    }
)
#: The ``not_before`` of a released step a person does: no worker claims it; the
#: person completing the task completes it (``PassStore.complete_step``).
PERSON = datetime(9999, 1, 1, tzinfo=UTC)
#: Triggers of runs a person or a schedule started (marks: see ``propagation``).
_RELEASED = frozenset({RunTrigger.DEPENDENCY.value, RunTrigger.RETRY.value})


@dataclass(frozen=True, slots=True)
class Finished:
    """A run whose end was just written."""

    run_id: int
    task_id: int
    workflow_run_id: int | None
    status: RunStatus


@dataclass
class Released:
    """What a release decided: runs to insert and passes that ended."""

    runs: list[NewRun]
    ended: list[tuple[int, Ending]]


async def release(
    conn: AsyncConnection, finished: Sequence[Finished], *, now: datetime
) -> Released:
    out = Released([], [])
    settled = [f for f in finished if f.status in SETTLED]
    if not settled:
        return out
    settled = await _join_passes(conn, settled, now)
    by_pass: dict[int, set[int]] = defaultdict(set)
    for f in settled:
        if f.workflow_run_id is not None:
            by_pass[f.workflow_run_id].add(f.task_id)
    used: set[tuple[int, datetime]] = set()
    pg = conn.dialect.name == "postgresql"
    for pass_id in sorted(by_pass):  # one lock order: no deadlock between two releases
        state = await load_pass(conn, pass_id, lock=pg)
        if state is None:
            continue
        for r in state.release(by_pass[pass_id]):
            at = now
            while (r.task_id, at) in used:  # the same task released in two passes at once
                at += timedelta(microseconds=1)
            used.add((r.task_id, at))
            run = r.decision.verdict is Verdict.RUN
            out.runs.append(
                NewRun(
                    r.task_id,
                    at,
                    RunTrigger.DEPENDENCY,
                    not_before=PERSON if state.graph.nodes[r.task_id].person else now,
                    skip_reason=None if run else r.decision.reason,
                    workflow_run_id=pass_id,
                    skip_status=r.decision.status if not run else RunStatus.SKIPPED,
                )
            )
        ending = state.ending()
        if ending is not None and await _end(conn, pass_id, ending, now):
            out.ended.append((pass_id, ending))
    return out


async def _join_passes(
    conn: AsyncConnection, finished: list[Finished], now: datetime
) -> list[Finished]:
    """Start a pass for runs of tasks with successors that belong to none."""
    loose = {f.task_id for f in finished if f.workflow_run_id is None}
    if not loose:
        return finished
    rows = await conn.execute(
        sa.select(TASKS.c.id, TASKS.c.workflow_id).where(
            TASKS.c.id.in_(sa.select(DEPS.c.predecessor_id).where(DEPS.c.predecessor_id.in_(loose)))
        )
    )
    heads = {r[0]: r[1] for r in rows}
    out = []
    for f in finished:
        if f.workflow_run_id is None and f.task_id in heads:
            pass_id = (
                await conn.execute(
                    sa.insert(PASSES)
                    .values(
                        workflow_id=heads[f.task_id],
                        status="running",
                        start_task_id=f.task_id,
                        started_at=now,
                    )
                    .returning(PASSES.c.id)
                )
            ).scalar_one()
            await conn.execute(
                sa.update(RUNS).where(RUNS.c.id == f.run_id).values(workflow_run_id=pass_id)
            )
            f = replace(f, workflow_run_id=pass_id)
        out.append(f)
    return out


async def load_graph(
    conn: AsyncConnection, workflow_id: int | None, start_task_id: int | None
) -> Graph:
    """A workflow's graph, or the chain downstream of ``start_task_id`` (no workflow)."""
    if workflow_id is not None:
        members = sa.select(TASKS.c.id).where(
            TASKS.c.workflow_id == workflow_id, TASKS.c.deleted_at.is_(None)
        )
        node_rows = await conn.execute(_NODE.where(TASKS.c.id.in_(members)))
        edge_rows = await conn.execute(
            sa.select(DEPS.c.predecessor_id, DEPS.c.successor_id).where(
                DEPS.c.successor_id.in_(members)
            )
        )
        return Graph.of([_node(r) for r in node_rows], [(r[0], r[1]) for r in edge_rows])
    seen: set[int] = set() if start_task_id is None else {start_task_id}
    frontier = set(seen)
    edges: set[tuple[int, int]] = set()
    while frontier:
        rows = await conn.execute(
            sa.select(DEPS.c.predecessor_id, DEPS.c.successor_id).where(
                DEPS.c.predecessor_id.in_(frontier)
            )
        )
        found = [(r[0], r[1]) for r in rows]
        edges.update(found)
        frontier = {s for _, s in found} - seen
        seen |= frontier
    node_rows = await conn.execute(_NODE.where(TASKS.c.id.in_(seen), TASKS.c.deleted_at.is_(None)))
    return Graph.of([_node(r) for r in node_rows], edges)


_NODE = sa.select(
    TASKS.c.id,
    TASKS.c.title,
    TASKS.c.trigger_rule,
    # A JSON column holds "no action" as SQL NULL or as JSON ``null``.
    sa.and_(
        TASKS.c.kind == "task",
        sa.or_(TASKS.c.action.is_(None), sa.cast(TASKS.c.action, sa.Text) == "null"),
    ),
)


def _node(row: sa.Row[Any]) -> Node:
    return Node(row[0], row[1], TriggerRule(row[2]), bool(row[3]))


async def load_pass(conn: AsyncConnection, pass_id: int, *, lock: bool = False) -> Pass | None:
    """A pass with the latest run of each task in it (locked for the transaction if asked)."""
    query = (
        sa.select(PASSES.c.workflow_id, PASSES.c.start_task_id, WORKFLOWS.c.on_failure)
        .select_from(PASSES.outerjoin(WORKFLOWS, WORKFLOWS.c.id == PASSES.c.workflow_id))
        .where(PASSES.c.id == pass_id)
    )
    if lock:
        query = query.with_for_update(of=PASSES)
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    graph = await load_graph(conn, row[0], row[1])
    latest: dict[int, RunState] = {}
    marks: dict[int, int] = {}
    runs = await conn.execute(
        sa.select(RUNS.c.id, RUNS.c.task_id, RUNS.c.status, RUNS.c.error, RUNS.c.trigger)
        .where(RUNS.c.workflow_run_id == pass_id)
        .order_by(RUNS.c.id)
    )
    for run_id, task_id, status, error, trigger in runs:
        latest[task_id] = RunState(run_id, RunStatus(status), error)
        if trigger not in _RELEASED:
            marks[task_id] = run_id
    mode = FailureMode(row[2]) if row[2] else FailureMode.BLOCK
    return Pass(graph, latest, marks, mode, row[1] if row[0] is None else _start(row[1], graph))


def _start(start_task_id: int | None, graph: Graph) -> int | None:
    # A pass of a workflow started at one of its tasks covers that task and what follows.
    return start_task_id if start_task_id in graph.nodes else None


async def _end(conn: AsyncConnection, pass_id: int, ending: Ending, now: datetime) -> bool:
    result = await conn.execute(
        sa.update(PASSES)
        .where(PASSES.c.id == pass_id, PASSES.c.finished_at.is_(None))
        .values(
            status="failed" if ending.failed else "succeeded",
            finished_at=now,
            failed_step=ending.failed_step,
            notified_at=None,
        )
        .returning(PASSES.c.id)
    )
    return result.first() is not None
