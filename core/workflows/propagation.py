"""One workflow pass: which tasks a finished run releases, and when the pass is over (pure).

A pass holds the latest run of each task. Runs a person started (the start of
the pass, a rerun, "run it anyway", a cleared failure) are *marks*: every run
of a task downstream of a mark that is older than the mark is out of date, so
that task is decided again — that is how a rerun re-runs everything after it,
while a task that already ran in this pass (``one_success`` released it early)
is never released twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.enums import RunStatus
from core.workflows.graph import Graph
from core.workflows.rules import Decision, FailureMode, Prerequisite, Verdict, decide

_FAILED = frozenset({RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.BLOCKED})
_OPEN = frozenset({RunStatus.PENDING, RunStatus.RUNNING, RunStatus.RETRYING})


@dataclass(frozen=True, slots=True)
class RunState:
    """The latest run of a task in the pass."""

    run_id: int
    status: RunStatus
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Released:
    task_id: int
    decision: Decision


@dataclass(frozen=True, slots=True)
class Ending:
    """How a finished pass ended: ``failed_step`` names the first task that failed."""

    failed: bool
    failed_step: str | None


@dataclass
class Pass:
    graph: Graph
    latest: dict[int, RunState]
    marks: Mapping[int, int]  # task id → its newest run a person (or a schedule) started
    on_failure: FailureMode = FailureMode.BLOCK
    start_task_id: int | None = None

    def __post_init__(self) -> None:
        #: False for a neighbourhood of the graph (``core.store.release``): no ending then.
        self.complete = True
        g = self.graph
        self.scope = (
            set(g.nodes) if self.start_task_id is None else g.descendants([self.start_task_id])
        )
        # The newest mark upstream of each task: its runs older than that are out of date.
        self._reset: dict[int, int] = {}
        for n in g.order if self.marks else ():
            self._reset[n] = max(
                (max(self.marks.get(p, 0), self._reset[p]) for p in g.preds.get(n, ())),
                default=0,
            )
        self._next_id = max((s.run_id for s in self.latest.values()), default=0) + 1

    def current(self, task_id: int) -> RunState | None:
        """The task's latest run in this pass if it is not out of date."""
        state = self.latest.get(task_id)
        if state is None or state.run_id < self._reset.get(task_id, 0):
            return None
        return state

    def prerequisites(self, task_id: int) -> list[Prerequisite]:
        out = []
        for p in self.graph.preds.get(task_id, ()):
            if p not in self.scope:
                continue
            state = self.current(p)
            title = self.graph.nodes[p].title
            if state is None:
                out.append(Prerequisite(title))
            else:
                out.append(Prerequisite(title, state.status, state.run_id, state.error))
        return out

    def release(self, changed: Iterable[int]) -> list[Released]:
        """Decide the tasks after ``changed`` (and, transitively, after skipped/blocked ones).

        The decisions come in the order their runs must be written; ``latest``
        is updated with placeholders so that ``ending`` sees them.
        """
        g = self.graph
        # Each successor is judged once per change that reaches it, not once per edge:
        # a batch of 500 steps before one join asks about the join once.
        queue = deque(dict.fromkeys(s for c in changed for s in g.succs.get(c, ())))
        queued = set(queue)
        out: list[Released] = []
        while queue:
            task_id = queue.popleft()
            queued.discard(task_id)
            if task_id not in self.scope or self.current(task_id) is not None:
                continue  # decided already in this pass
            node = g.nodes[task_id]
            decision = decide(node.rule, self.prerequisites(task_id), on_failure=self.on_failure)
            if decision.verdict is Verdict.WAIT:
                continue
            out.append(Released(task_id, decision))
            self.latest[task_id] = RunState(self._next_id, decision.status, decision.reason)
            self._next_id += 1
            if decision.verdict is not Verdict.RUN:
                for nxt in g.succs.get(task_id, ()):
                    if nxt not in queued:
                        queued.add(nxt)
                        queue.append(nxt)
        return out

    def ending(self) -> Ending | None:
        """``None`` while a task in the pass may still run; else how the pass ended."""
        states = []
        for n in self.graph.order:
            if n not in self.scope:
                continue
            state = self.current(n)
            if state is None or state.status in _OPEN:
                return None
            states.append((n, state.status))
        failed = [n for n, st in states if st in _FAILED and st is not RunStatus.BLOCKED]
        failed += [n for n, st in states if st is RunStatus.BLOCKED]
        if not failed:
            return Ending(False, None)
        return Ending(True, self.graph.nodes[failed[0]].title)
