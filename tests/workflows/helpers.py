"""Building workflows straight into the store and driving their runs like a worker does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.clock import ManualClock
from core.enums import RunStatus, TaskKind
from core.models_workflows import Workflow
from core.store import SqlStore
from core.store.passes import PassStore
from core.store.runs import Outcome, RunStore

WORKER = "test-worker"


async def build(
    store: SqlStore,
    workspace_id: int,
    edges: str,
    *,
    name: str = "wf",
    rules: dict[str, str] | None = None,
    on_failure: str = "block",
    person: bool = False,
    action: str = "noop",
) -> tuple[int, dict[str, int]]:
    """``"a>b a>c b>d c>d"``: one job task per name, steps of a new workflow ``name``."""
    workflow = await store.insert_workflow(
        Workflow(workspace_id=workspace_id, name=name, on_failure=on_failure)
    )
    assert workflow.id is not None
    ids: dict[str, int] = {}
    pairs = []
    for edge in edges.split():
        names = edge.split(">")
        for n in names:
            if n not in ids:
                values: dict[str, object] = {"workspace_id": workspace_id, "title": n}
                if not person:
                    values.update(
                        kind=TaskKind.JOB,
                        action={"type": action},
                        retry_policy={"max_attempts": 1},  # a failure is final here
                    )
                task = await store.insert_task(values)
                assert task.id is not None
                ids[n] = task.id
                rule = (rules or {}).get(n)
                await store.set_step(task.id, workflow_id=workflow.id, rule=rule)
        if len(names) == 2:
            pairs.append((ids[names[0]], ids[names[1]]))
    for p, s in pairs:
        await store.add_edge(p, s)
    return workflow.id, ids


@dataclass
class Driver:
    """Plays the worker: claims a step's pending run and records how it ended."""

    runs: RunStore
    passes: PassStore
    clock: ManualClock
    ids: dict[str, int]

    async def finish(self, name: str, status: RunStatus = RunStatus.COMPLETED) -> None:
        self.clock.advance(1)
        latest = (await self.runs.runs_for(self.ids[name], limit=1))[0]
        assert latest.status == RunStatus.PENDING, f"{name} is {latest.status}"
        assert latest.id is not None
        now = self.clock.now()
        claimed = await self.runs.claim_ids(
            WORKER, [latest.id], now=now, lease=timedelta(seconds=60)
        )
        assert claimed, f"{name}'s run could not be claimed"
        await self.runs.finish_many(
            [
                Outcome(
                    latest.id, WORKER, status, error="boom" if status is RunStatus.FAILED else None
                )
            ],
            now=now,
        )

    async def states(self, pass_id: int) -> dict[str, tuple[str, str | None]]:
        """``name → (status, error)`` of each step's latest run in the pass."""
        view = await self.passes.view(pass_id)
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[t]: (str(s.status), s.error) for t, s in view.latest.items() if t in by_id}

    async def run_id(self, name: str) -> int:
        run = (await self.runs.runs_for(self.ids[name], limit=1))[0]
        assert run.id is not None
        return run.id
