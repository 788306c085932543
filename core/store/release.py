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
    by_pass: dict[int, dict[int, Finished]] = defaultdict(dict)
    for f in settled:
        if f.workflow_run_id is not None:
            by_pass[f.workflow_run_id][f.task_id] = f
    used: set[tuple[int, datetime]] = set()
    pg = conn.dialect.name == "postgresql"
    for pass_id in sorted(by_pass):  # one lock order: no deadlock between two releases
        changed = set(by_pass[pass_id])
        state = await _near_pass(conn, pass_id, by_pass[pass_id], lock=pg)
        decided = state.release(changed) if state is not None else []
        if state is None or any(r.decision.verdict is not Verdict.RUN for r in decided):
            # Skips and blocks travel on through the graph, and a pass whose steps were
            # rerun has out-of-date runs anywhere downstream: decide on the whole graph.
            state = await load_pass(conn, pass_id)
            if state is None:
                continue
            decided = state.release(changed)
        for r in decided:
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
        if any(r.decision.verdict is Verdict.RUN for r in decided):
            continue  # a step was released: the pass goes on
        if not await _idle(conn, pass_id):
            continue
        full = state if state.complete else await load_pass(conn, pass_id)
        ending = full.ending() if full is not None else None
        if ending is not None and await _end(conn, pass_id, ending, now):
            out.ended.append((pass_id, ending))
    return out


async def _idle(conn: AsyncConnection, pass_id: int) -> bool:
    """No run of the pass is pending or running (it may have ended)."""
    row = await conn.execute(
        sa.select(RUNS.c.id)
        .where(
            RUNS.c.workflow_run_id == pass_id,
            RUNS.c.status.in_([RunStatus.PENDING.value, RunStatus.RUNNING.value]),
        )
        .limit(1)
    )
    return row.first() is None


async def _near_pass(
    conn: AsyncConnection, pass_id: int, finished: dict[int, Finished], *, lock: bool
) -> Pass | None:
    """The neighbourhood of ``finished`` in a pass: enough to release their successors.

    Only for a pass of a whole workflow that was never reopened (no rerun): then
    every released run is newer than the runs that started the pass, so a step
    is decided once it has a run. A successor that still waits for a
    prerequisite outside ``finished`` can only be decided by what just finished
    (a first success for ``one_success``, a failure for ``all_success``…): it is
    judged on those and one stand-in for "still open", without reading its
    other prerequisites — a join after 10,000 parallel steps costs a lookup per
    batch, not 10,000. Every other successor is judged on all its prerequisites'
    latest runs. ``None``: not such a pass, or nothing follows ``finished``.
    """
    changed = set(finished)
    if lock:
        await conn.execute(sa.select(PASSES.c.id).where(PASSES.c.id == pass_id).with_for_update())
    params = {"pass_id": pass_id, "changed": sorted(changed)}
    near = (await conn.execute(_NEAR, params)).all()
    if not near:  # the last steps: nothing to release, only maybe an ending
        nothing = Pass(Graph.of([], []), {}, {})
        nothing.complete = False
        return nothing
    waiting = {r[1] for r in near if r[2] and not r[3]}
    nexts = sorted({r[1] for r in near if not r[3]} - waiting)
    if not waiting and not nexts:
        return None
    rows: list[sa.Row[Any]] = []
    for successors, only_from in ((nexts, None), (sorted(waiting), sorted(changed))):
        if successors:
            values: dict[str, Any] = {"pass_id": pass_id, "successors": successors}
            query = _NEAR_ROWS
            if only_from is not None:
                query, values["only_from"] = _NEAR_ROWS_FROM, only_from
            rows += (await conn.execute(query, values)).all()
    if not rows or rows[0][15] is not None or rows[0][16]:
        return None
    # Steps of other workflows are dropped here, not in SQL: a condition on
    # ``tasks.workflow_id`` makes SQLite walk the workflow's every task.
    rows = [r for r in rows if r[18] == r[14] and r[19] == r[14]]
    nodes: dict[int, Node] = {}
    latest_runs: dict[int, RunState] = {}
    for r in rows:
        nodes[r[1]] = Node(r[1], r[2], TriggerRule(r[3]), bool(r[4]))
        nodes.setdefault(r[0], Node(r[0], r[5], TriggerRule(r[6]), bool(r[7])))
        if r[8] is not None:
            latest_runs[r[0]] = RunState(r[8], RunStatus(r[9]), r[10])
        if r[11] is not None:
            latest_runs[r[1]] = RunState(r[11], RunStatus(r[12]), r[13])
    edges = [(r[0], r[1]) for r in rows]
    for task_id in waiting:  # "another prerequisite is still open": a stand-in without a run
        nodes[-task_id] = Node(-task_id, "(open)")
        edges.append((-task_id, task_id))
    for task_id, f in finished.items():
        if task_id in nodes and task_id not in latest_runs:
            latest_runs[task_id] = RunState(f.run_id, f.status)
    mode = FailureMode(rows[0][17]) if rows[0][17] else FailureMode.BLOCK
    graph = Graph.of(nodes.values(), edges)
    state = Pass(graph, latest_runs, {}, mode)
    state.complete = False
    return state


def _near_query() -> sa.Select[Any]:
    """Per successor of ``:changed`` in pass ``:pass_id``: another prerequisite open? a run?

    Built once with bind parameters: compiling it per hop cost more than running it.
    """
    d2, r2 = DEPS.alias("d2"), RUNS.alias("r2")
    pass_id = sa.bindparam("pass_id", type_=sa.Integer)
    changed: sa.BindParameter[int] = sa.bindparam("changed", expanding=True)
    settled_run = (
        sa.select(r2.c.id)
        .where(
            r2.c.workflow_run_id == pass_id,
            r2.c.task_id == d2.c.predecessor_id,
            r2.c.status.in_([s.value for s in SETTLED]),
        )
        .exists()
    )
    # Per successor (not per edge: a batch of 500 steps before one join asks once).
    open_other = (
        sa.select(d2.c.predecessor_id)
        .where(
            d2.c.successor_id == TASKS.c.id,
            d2.c.predecessor_id.not_in(changed),
            ~settled_run,
        )
        .exists()
    )
    has_run = (
        sa.select(RUNS.c.id)
        .where(RUNS.c.workflow_run_id == pass_id, RUNS.c.task_id == TASKS.c.id)
        .exists()
    )
    nexts_of_changed = sa.select(DEPS.c.successor_id).where(DEPS.c.predecessor_id.in_(changed))
    return sa.select(TASKS.c.id, TASKS.c.id, open_other, has_run).where(
        TASKS.c.id.in_(nexts_of_changed)
    )


def _near_rows(*, only_from: bool) -> sa.Select[Any]:
    """Edges into ``:successors`` (from ``:only_from`` if asked) with both ends' latest runs."""
    succ, pred = TASKS.alias("succ"), TASKS.alias("pred")
    succ_run, pred_run = RUNS.alias("succ_run"), RUNS.alias("pred_run")
    pass_id = sa.bindparam("pass_id", type_=sa.Integer)

    def latest(task: sa.ColumnElement[int]) -> sa.ScalarSelect[Any]:
        return (
            sa.select(sa.func.max(RUNS.c.id))
            .where(RUNS.c.task_id == task, RUNS.c.workflow_run_id == pass_id)
            .scalar_subquery()
        )

    return (
        sa.select(
            DEPS.c.predecessor_id,
            DEPS.c.successor_id,
            succ.c.title,
            succ.c.trigger_rule,
            _person(succ),
            pred.c.title,
            pred.c.trigger_rule,
            _person(pred),
            pred_run.c.id,
            pred_run.c.status,
            pred_run.c.error,
            succ_run.c.id,
            succ_run.c.status,
            succ_run.c.error,
            PASSES.c.workflow_id,
            PASSES.c.start_task_id,
            PASSES.c.reopened,
            WORKFLOWS.c.on_failure,
            succ.c.workflow_id,
            pred.c.workflow_id,
        )
        .select_from(
            DEPS.join(succ, succ.c.id == DEPS.c.successor_id)
            .join(pred, pred.c.id == DEPS.c.predecessor_id)
            .join(PASSES, PASSES.c.id == pass_id)
            .join(WORKFLOWS, WORKFLOWS.c.id == PASSES.c.workflow_id)
            .outerjoin(pred_run, pred_run.c.id == latest(pred.c.id))
            .outerjoin(succ_run, succ_run.c.id == latest(succ.c.id))
        )
        .where(
            DEPS.c.successor_id.in_(sa.bindparam("successors", expanding=True)),
            DEPS.c.predecessor_id.in_(sa.bindparam("only_from", expanding=True))
            if only_from
            else sa.true(),
            succ.c.deleted_at.is_(None),
            pred.c.deleted_at.is_(None),
        )
    )


async def _read_runs(
    conn: AsyncConnection,
    where: sa.ColumnElement[bool],
    latest: dict[int, RunState],
    marks: dict[int, int],
) -> None:
    runs = await conn.execute(
        sa.select(RUNS.c.id, RUNS.c.task_id, RUNS.c.status, RUNS.c.error, RUNS.c.trigger)
        .where(where)
        .order_by(RUNS.c.id)
    )
    for run_id, task_id, status, error, trigger in runs:
        latest[task_id] = RunState(run_id, RunStatus(status), error)
        if trigger not in _RELEASED:
            marks[task_id] = run_id


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


def _person(tasks: Any) -> sa.ColumnElement[bool]:
    """A step a person does: a tracked task with no action (SQL NULL or JSON ``null``)."""
    return sa.and_(
        tasks.c.kind == "task",
        sa.or_(tasks.c.action.is_(None), sa.cast(tasks.c.action, sa.Text) == "null"),
    )


_NODE = sa.select(TASKS.c.id, TASKS.c.title, TASKS.c.trigger_rule, _person(TASKS))
_NEAR = _near_query()
_NEAR_ROWS = _near_rows(only_from=False)
_NEAR_ROWS_FROM = _near_rows(only_from=True)


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
    await _read_runs(conn, RUNS.c.workflow_run_id == pass_id, latest, marks)
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
