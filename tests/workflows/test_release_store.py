"""Release in the transaction that records outcomes, on SQLite and PostgreSQL.

Outcomes go through ``RunStore.finish_many`` — the call the worker pool's
recorder makes — so what these tests see is what a running scheduler does.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.clock import ManualClock
from core.enums import RunStatus, RunTrigger
from core.errors import Conflict
from core.store import SqlStore
from core.store.passes import PassStore
from core.store.runs import NewRun, Outcome, RunStore
from core.workflows.rules import TriggerRule

from .helpers import WORKER, Driver, build

OK, BAD = RunStatus.COMPLETED, RunStatus.FAILED


async def start(
    store: SqlStore, clock: ManualClock, workspace_id: int, edges: str, **kw: object
) -> tuple[Driver, int]:
    workflow_id, ids = await build(store, workspace_id, edges, **kw)  # type: ignore[arg-type]
    runs = RunStore(store.db)
    passes = PassStore(store.db, runs)
    pass_id, fired = await passes.start(workflow_id, started_by=None, now=clock.now())
    assert fired
    return Driver(runs, passes, clock, ids), pass_id


async def test_branches_then_join(store: SqlStore, clock: ManualClock, workspace_id: int) -> None:
    d, pass_id = await start(store, clock, workspace_id, "a>b a>c b>d c>d")
    assert (await d.states(pass_id)) == {"a": ("pending", None)}
    await d.finish("a")
    states = await d.states(pass_id)
    assert states["b"][0] == states["c"][0] == "pending"  # both branches released at once
    await d.finish("b")
    assert "d" not in await d.states(pass_id)
    await d.finish("c")
    assert (await d.states(pass_id))["d"] == ("pending", None)
    released = (await d.runs.runs_for(d.ids["d"]))[0]
    assert released.trigger == RunTrigger.DEPENDENCY and released.workflow_run_id == pass_id
    await d.finish("d")
    view = await d.passes.view(pass_id)
    assert view.status == "succeeded" and view.finished_at is not None


async def test_a_failure_blocks_successors_transitively_with_reasons(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    d, pass_id = await start(store, clock, workspace_id, "build>test test>deploy build>docs")
    await d.finish("build", BAD)
    build_run = await d.run_id("build")
    states = await d.states(pass_id)
    assert states["test"] == ("blocked", f"blocked: 'build' failed in run {build_run}")
    assert states["docs"] == ("blocked", f"blocked: 'build' failed in run {build_run}")
    assert states["deploy"] == (
        "blocked",
        f"blocked: 'build' failed in run {build_run} (via 'test')",
    )
    view = await d.passes.view(pass_id)
    assert view.status == "failed" and view.failed_step == "build"
    # the blocked run has its reason as an event too
    events = await d.runs.events_for(await d.run_id("deploy"))
    assert [(e.status, e.detail) for e in events][-1][0] == RunStatus.BLOCKED


async def test_skip_option(store: SqlStore, clock: ManualClock, workspace_id: int) -> None:
    d, pass_id = await start(store, clock, workspace_id, "build>test", on_failure="skip")
    await d.finish("build", BAD)
    assert (await d.states(pass_id))["test"] == (
        "skipped",
        f"skipped: 'build' failed in run {await d.run_id('build')}",
    )


# rule of "d" in a → d ← b, the outcomes of a then b, and what becomes of d
RULE_CASES = [
    (TriggerRule.ALL_SUCCESS, OK, OK, "pending"),
    (TriggerRule.ALL_SUCCESS, OK, BAD, "blocked"),
    (TriggerRule.ALL_DONE, BAD, OK, "pending"),
    (TriggerRule.ALL_FAILED, BAD, BAD, "pending"),
    (TriggerRule.ALL_FAILED, BAD, OK, "skipped"),
    (TriggerRule.ONE_SUCCESS, BAD, OK, "pending"),
    (TriggerRule.ONE_SUCCESS, BAD, BAD, "blocked"),
    (TriggerRule.ONE_FAILED, OK, BAD, "pending"),
    (TriggerRule.ONE_FAILED, OK, OK, "skipped"),
    (TriggerRule.NONE_FAILED, OK, OK, "pending"),
    (TriggerRule.NONE_FAILED, OK, BAD, "blocked"),
    (TriggerRule.ALWAYS, BAD, BAD, "pending"),
]


@pytest.mark.parametrize(("rule", "first", "second", "outcome"), RULE_CASES)
async def test_trigger_rules_in_the_store(
    store: SqlStore,
    clock: ManualClock,
    workspace_id: int,
    rule: TriggerRule,
    first: RunStatus,
    second: RunStatus,
    outcome: str,
) -> None:
    d, pass_id = await start(store, clock, workspace_id, "a>d b>d", rules={"d": rule.value})
    await d.finish("a", first)
    await d.finish("b", second)
    assert (await d.states(pass_id))["d"][0] == outcome


async def test_one_success_releases_early_and_only_once(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    d, pass_id = await start(
        store, clock, workspace_id, "a>d b>d", rules={"d": TriggerRule.ONE_SUCCESS.value}
    )
    await d.finish("a")
    assert (await d.states(pass_id))["d"][0] == "pending"  # b still pending
    await d.finish("b")
    assert len(await d.runs.runs_for(d.ids["d"])) == 1


async def test_rerun_runs_the_step_and_everything_after_it(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    d, pass_id = await start(store, clock, workspace_id, "build>test test>deploy")
    await d.finish("build")
    await d.finish("test", BAD)
    assert (await d.states(pass_id))["deploy"][0] == "blocked"
    clock.advance(1)
    fired = await d.passes.rerun(pass_id, d.ids["test"], now=clock.now())
    assert [f.task_id for f in fired] == [d.ids["test"]]
    assert (await d.passes.view(pass_id)).status == "running"
    await d.finish("test")
    assert (await d.states(pass_id))["deploy"] == ("pending", None)
    await d.finish("deploy")
    assert (await d.passes.view(pass_id)).status == "succeeded"
    assert len(await d.runs.runs_for(d.ids["test"])) == 2  # the failed run stays in history


async def test_clear_a_failure_releases_what_follows(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    d, pass_id = await start(store, clock, workspace_id, "build>test test>deploy")
    await d.finish("build", BAD)
    clock.advance(1)
    fired = await d.passes.clear(pass_id, d.ids["build"], note="cleared by alice", now=clock.now())
    assert [f.task_id for f in fired] == [d.ids["test"]]
    states = await d.states(pass_id)
    assert states["build"][0] == "completed" and states["test"][0] == "pending"
    with pytest.raises(Conflict, match="no failure to clear"):
        await d.passes.clear(pass_id, d.ids["build"], note="x", now=clock.now())


async def test_run_anyway_runs_a_blocked_step(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    d, pass_id = await start(store, clock, workspace_id, "build>test test>deploy")
    await d.finish("build", BAD)
    clock.advance(1)
    await d.passes.run_anyway(pass_id, d.ids["test"], now=clock.now())
    await d.finish("test")
    assert (await d.states(pass_id))["deploy"] == ("pending", None)
    with pytest.raises(Conflict, match="not blocked or skipped"):
        await d.passes.run_anyway(pass_id, d.ids["build"], now=clock.now())


async def test_a_scheduled_run_of_a_first_step_starts_a_pass(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    """Every night at 1 run the export, then the report: the export's own fire."""
    _, ids = await build(store, workspace_id, "export>report")
    runs = RunStore(store.db)
    fired = await runs.fire_many([NewRun(ids["export"], clock.now())], now=clock.now())
    assert fired
    d = Driver(runs, PassStore(store.db, runs), clock, ids)
    await d.finish("export")
    report = (await runs.runs_for(ids["report"]))[0]
    assert report.status == RunStatus.PENDING and report.workflow_run_id is not None
    export = (await runs.runs_for(ids["export"]))[0]
    assert export.workflow_run_id == report.workflow_run_id


async def test_a_retry_stays_in_its_pass(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    d, pass_id = await start(store, clock, workspace_id, "a>b")
    run_id = await d.run_id("a")
    now = clock.now()
    await d.runs.claim_ids(WORKER, [run_id], now=now, lease=timedelta(seconds=60))
    retries = await d.runs.finish_many(
        [Outcome(run_id, WORKER, RunStatus.RETRYING, error="x", retry_at=now)], now=now
    )
    assert len(retries) == 1
    assert "b" not in await d.states(pass_id)  # a retrying step settles nothing
    await d.finish("a")
    assert (await d.states(pass_id))["b"][0] == "pending"


async def test_a_person_step_waits_for_the_person(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    d, pass_id = await start(store, clock, workspace_id, "code>review", person=True)
    # no worker can claim a step a person does
    assert await d.runs.claim("w", limit=10, now=clock.now(), lease=timedelta(seconds=5)) == []
    fired = await d.passes.complete_step(d.ids["code"], now=clock.now(), note="done")
    assert [f.task_id for f in fired] == [d.ids["review"]]
    assert (await d.states(pass_id))["code"][0] == "completed"


async def test_two_prerequisites_finishing_at_once_release_the_join_once(
    store: SqlStore, clock: ManualClock, workspace_id: int
) -> None:
    """Two transactions record a and b side by side: d is decided once, after both."""
    d, _ = await start(store, clock, workspace_id, "s>a s>b a>j b>j")
    await d.finish("s")
    now = clock.now()
    run_a, run_b = await d.run_id("a"), await d.run_id("b")
    await d.runs.claim_ids(WORKER, [run_a, run_b], now=now, lease=timedelta(seconds=60))
    other = RunStore(store.db)  # its own connection and transaction

    both_open = asyncio.Barrier(2)

    async def warm() -> None:  # two pooled connections, so neither transaction waits to connect
        async with store.db.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
            await both_open.wait()  # held until the other is open too

    await asyncio.gather(warm(), warm())
    await asyncio.gather(
        d.runs.finish_many([Outcome(run_a, WORKER, OK)], now=now),
        other.finish_many([Outcome(run_b, WORKER, OK)], now=now),
    )
    runs = await d.runs.runs_for(d.ids["j"])
    assert [r.status for r in runs] == [RunStatus.PENDING]
