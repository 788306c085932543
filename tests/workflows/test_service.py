"""The workflow service: templates, links, loops, overrides, the tree, DOT and the PNG."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from core.clock import ManualClock
from core.enums import Role, RunStatus
from core.errors import Conflict, PermissionDenied
from core.models import Member
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.runs import Outcome, RunStore
from core.workflows.service import WorkflowService

WORKER = "svc-worker"


async def finish(store: SqlStore, clock: ManualClock, task_id: int, status: RunStatus) -> None:
    runs = RunStore(store.db)
    clock.advance(1)
    run = (await runs.runs_for(task_id, limit=1))[0]
    assert run.id is not None and run.status == RunStatus.PENDING
    await runs.claim_ids(WORKER, [run.id], now=clock.now(), lease=timedelta(seconds=60))
    await runs.finish_many([Outcome(run.id, WORKER, status)], now=clock.now())


async def job(tasks: TaskService, member: Member, title: str) -> int:
    task = await tasks.create(
        {"title": title, "kind": "job", "action": {"type": "noop"}}, actor=member
    )
    assert task.id is not None
    return task.id


async def test_a_release_template_makes_its_steps_and_edges(
    workflows: WorkflowService, member: Member, store: SqlStore
) -> None:
    workflow = await workflows.from_template("release", "v2.3", actor=member)
    assert workflow.name == "release v2.3"
    shown = await workflows.show("Release V2.3", workspace_id=member.workspace_id)
    assert shown.tree() == "\n".join(
        [
            "Workflow 'release v2.3' (not run yet)",
            "v2.3: build · not reached",
            "├→ v2.3: test · not reached",
            "│  └→ v2.3: tag · not reached",
            "│     └→ v2.3: deploy · not reached",
            "│        └→ v2.3: announce · not reached",
            "└→ v2.3: changelog · not reached",
            "   └→ v2.3: tag (see above)",
        ]
    )


async def test_the_tree_shows_each_steps_last_status_and_why(
    workflows: WorkflowService,
    member: Member,
    task_service: TaskService,
    store: SqlStore,
    clock: ManualClock,
) -> None:
    build, test, docs, merge = [
        await job(task_service, member, t) for t in ("build", "test", "docs", "merge")
    ]
    await workflows.link(build, test, actor=member)
    await workflows.link(build, docs, actor=member)
    await workflows.link(test, merge, actor=member)
    await workflows.link(docs, merge, actor=member)
    pass_id = await workflows.start("build", actor=member)
    await finish(store, clock, build, RunStatus.COMPLETED)
    await finish(store, clock, test, RunStatus.FAILED)
    await finish(store, clock, docs, RunStatus.COMPLETED)
    test_run = (await RunStore(store.db).runs_for(test, limit=1))[0].id
    shown = await workflows.show("build", workspace_id=member.workspace_id)
    assert shown.tree() == "\n".join(
        [
            f"Workflow 'build' · run {pass_id} failed at 'test'",
            "build · completed",
            "├→ test · failed",
            f"│  └→ merge · blocked ('test' failed in run {test_run})",
            "└→ docs · completed",
            "   └→ merge (see above)",
        ]
    )
    dot = shown.dot()
    assert dot.startswith('digraph "build" {')
    assert f't{test} [label="test\\nfailed", fillcolor="#f38ba8"];' in dot
    assert f"  t{build} -> t{test};" in dot
    picture = Image.open(io.BytesIO(await shown.png()))
    assert picture.format == "PNG" and picture.width > 300 and picture.height > 150
    colours = picture.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 20  # drawn, not a blank canvas
    pixels = {c for _, c in colours}
    assert (0xF3, 0x8B, 0xA8) in pixels  # the failed step's fill
    assert (0xA6, 0xE3, 0xA1) in pixels  # a completed step's fill


async def test_when_x_is_done_do_y_links_them_and_loops_are_named(
    workflows: WorkflowService, member: Member, task_service: TaskService
) -> None:
    a = await job(task_service, member, "backup")
    b = await job(task_service, member, "report")
    c = await job(task_service, member, "cleanup")
    workflow = await workflows.link(a, b, actor=member)
    assert workflow.name == "backup"
    await workflows.link(b, c, actor=member)
    with pytest.raises(
        Conflict, match="That would make a loop: 'cleanup' → 'backup' → 'report' → 'cleanup'"
    ):
        await workflows.link(c, a, actor=member)


async def test_run_anyway_is_for_admins_and_audited(
    workflows: WorkflowService,
    member: Member,
    other_member: Member,
    task_service: TaskService,
    store: SqlStore,
    clock: ManualClock,
) -> None:
    build = await job(task_service, member, "build")
    deploy = await job(task_service, member, "deploy")
    await workflows.link(build, deploy, actor=member)
    await workflows.start("build", actor=member)
    await finish(store, clock, build, RunStatus.FAILED)
    assert Role(other_member.role) is Role.MEMBER
    with pytest.raises(PermissionDenied, match="Only workspace admins"):
        await workflows.run_anyway(deploy, actor=other_member)
    _, node = await workflows.run_anyway(deploy, actor=member)
    assert node.title == "deploy"
    trail = await store.audit_for_task(deploy, workspace_id=member.workspace_id)
    assert [e.action for e in trail][-1] == "workflow.run_anyway"
    assert (await RunStore(store.db).runs_for(deploy, limit=1))[0].status == RunStatus.PENDING


async def test_the_owner_is_told_once_when_a_pass_ends(
    workflows: WorkflowService,
    member: Member,
    task_service: TaskService,
    store: SqlStore,
    clock: ManualClock,
) -> None:
    build = await job(task_service, member, "build")
    test = await job(task_service, member, "test")
    await workflows.link(build, test, actor=member)
    pass_id = await workflows.start("build", actor=member)
    assert await workflows.endings() == []
    await finish(store, clock, build, RunStatus.COMPLETED)
    await finish(store, clock, test, RunStatus.FAILED)
    endings = await workflows.endings()
    assert [e.text for e in endings] == [f"Workflow 'build' failed at 'test' (run {pass_id})."]
    assert endings[0].owner is not None and endings[0].owner.id == member.id
    assert await workflows.endings() == []  # once


async def test_open_prerequisites_are_reported_before_completing(
    workflows: WorkflowService, member: Member, task_service: TaskService
) -> None:
    code = (await task_service.create({"title": "code"}, actor=member)).id
    review = (await task_service.create({"title": "review"}, actor=member)).id
    assert code is not None and review is not None
    await workflows.link(code, review, actor=member)
    assert await workflows.open_prerequisites(review, workspace_id=member.workspace_id) == ["code"]
    await task_service.complete(code, actor=member)
    assert await workflows.open_prerequisites(review, workspace_id=member.workspace_id) == []
