"""The permission matrix (docs/conversation.md) on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.clock import ManualClock
from core.enums import Role
from core.errors import PermissionDenied
from core.models import Member, Workspace
from core.services.members import MemberService
from core.services.runs import RunService
from core.services.tasks import TaskService
from core.store import SqlStore


class FakeRunner:
    """Records what would have been run (the scheduler is not under test here)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def run_now(self, task_id: int) -> object:
        self.calls.append(("now", task_id))
        return None

    async def run_at(self, task_id: int, when: datetime) -> object:
        self.calls.append(("at", task_id))
        return None


async def _people(store: SqlStore, workspace: Workspace) -> dict[Role, Member]:
    ws = workspace.id or 0
    return {
        role: await store.ensure_member(ws, f"P-{role}", display_name=str(role), role=role)
        for role in Role
    }


async def test_viewers_cannot_change_run_or_snooze_and_attempts_leave_no_trace(
    store: SqlStore, clock: ManualClock, workspace: Workspace, task_service: TaskService
) -> None:
    people = await _people(store, workspace)
    runner = FakeRunner()
    runs = RunService(store=store, clock=clock, runner=runner)
    task = await task_service.create({"title": "deploy v2"}, actor=people[Role.MEMBER])
    viewer = people[Role.VIEWER]
    for attempt in (
        task_service.complete(task.id, actor=viewer),
        task_service.update(task.id, {"title": "x"}, actor=viewer),
        task_service.comment(task.id, "hi", actor=viewer),
        runs.run_now(task.id, actor=viewer),
        runs.snooze(task.id, clock.now() + timedelta(hours=1), actor=viewer),
    ):
        with pytest.raises(PermissionDenied):
            await attempt
    assert runner.calls == []
    for role in (Role.OWNER, Role.ADMIN, Role.MEMBER):
        await runs.run_now(task.id, actor=people[role])
        await runs.snooze(task.id, clock.now() + timedelta(hours=1), actor=people[role])
    assert len(runner.calls) == 6
    actions = [
        e.action for e in await task_service.history(task.id, workspace_id=task.workspace_id)
    ]
    assert actions.count("task.run") == 3 and actions.count("task.snoozed") == 3


@pytest.mark.parametrize(
    ("actor", "target_role", "allowed"),
    [
        (Role.OWNER, Role.ADMIN, True),
        (Role.OWNER, Role.OWNER, True),
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.VIEWER, True),
        (Role.ADMIN, Role.OWNER, False),
        (Role.MEMBER, Role.ADMIN, False),
        (Role.VIEWER, Role.ADMIN, False),
    ],
)
async def test_who_may_change_roles(
    store: SqlStore,
    clock: ManualClock,
    workspace: Workspace,
    actor: Role,
    target_role: Role,
    allowed: bool,
) -> None:
    people = await _people(store, workspace)
    target = await store.ensure_member(workspace.id or 0, "P-new", display_name="newbie")
    service = MemberService(store=store, clock=clock)
    if allowed:
        changed = await service.set_role(people[actor], "newbie", target_role)
        assert changed.role == target_role
    else:
        with pytest.raises(PermissionDenied):
            await service.set_role(people[actor], "newbie", target_role)
        assert (await store.get_member(target.id or 0)).role == Role.MEMBER


async def test_anyone_sets_their_own_zone_and_a_bad_zone_is_explained(
    store: SqlStore, clock: ManualClock, workspace: Workspace
) -> None:
    people = await _people(store, workspace)
    service = MemberService(store=store, clock=clock)
    updated = await service.set_timezone(people[Role.VIEWER], "America/New_York")
    assert updated.timezone == "America/New_York"
    with pytest.raises(Exception, match="not a time zone"):
        await service.set_timezone(people[Role.VIEWER], "Mars/Olympus")


def _documented_matrix() -> dict[str, dict[Role, bool]]:
    """The permission matrix as docs/conversation.md states it (row label → role → allowed)."""
    from pathlib import Path

    doc = Path(__file__).parents[2] / "docs" / "conversation.md"
    lines = doc.read_text().split("## Permission matrix", 1)[1].splitlines()
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    matrix: dict[str, dict[Role, bool]] = {}
    for row in rows:
        if not row.startswith("| "):
            break
        cells = [c.strip() for c in row.strip("|").split("|")]
        roles = (Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER)
        matrix[cells[0]] = {r: c.startswith("✓") for r, c in zip(roles, cells[1:], strict=True)}
    return matrix


@pytest.mark.parametrize("role", list(Role))
async def test_every_row_of_the_documented_matrix(
    store: SqlStore, clock: ManualClock, workspace: Workspace, role: Role
) -> None:
    """Each role × each row of the documented matrix, on both databases."""
    people = await _people(store, workspace)
    me, member = people[role], people[Role.MEMBER]
    tasks = TaskService(store=store, clock=clock)
    runs = RunService(store=store, clock=clock, runner=FakeRunner())
    members = MemberService(store=store, clock=clock)
    ws = workspace.id or 0

    async def fresh() -> int:
        return (
            await tasks.create(
                {"title": "deploy v2", "schedule": {"kind": "cron", "cron": "0 9 * * *"}},
                actor=member,
            )
        ).id

    async def reads() -> None:
        task_id = await fresh()
        await tasks.query(workspace_id=ws, actor=me)
        await tasks.search("deploy", workspace_id=ws)
        await tasks.get(task_id, workspace_id=ws)
        await tasks.history(task_id, workspace_id=ws)

    async def changes() -> None:
        task_id = (await tasks.create({"title": "mine"}, actor=me)).id
        await tasks.update(task_id, {"title": "renamed", "assignees": ["P-member"]}, actor=me)
        await tasks.comment(task_id, "noted", actor=me)
        await tasks.update(task_id, {"retry_policy": {"max_attempts": 3}}, actor=me)

    async def states() -> None:
        task_id = await fresh()
        await tasks.complete(task_id, actor=me)
        await tasks.reopen(task_id, actor=me)
        await tasks.delete(task_id, actor=me)
        await tasks.restore(task_id, actor=me)

    async def running() -> None:
        task_id = await fresh()
        await runs.run_now(task_id, actor=me)
        await runs.snooze(task_id, clock.now() + timedelta(hours=1), actor=me)
        await tasks.pause(task_id, actor=me)
        await tasks.resume(task_id, actor=me)

    async def roles() -> None:
        await members.set_role(me, "P-viewer", Role.MEMBER)
        await members.set_role(me, "P-viewer", Role.VIEWER)

    async def own_zone() -> None:
        await members.set_timezone(me, "America/New_York")

    operations = {
        "list, search, show": reads,
        "set their own time zone": own_zone,
        "create, edit, rename": changes,
        "complete, reopen, delete, restore": states,
        "run now, snooze, pause, resume": running,
        "change someone's role": roles,
    }
    matrix = _documented_matrix()
    checked = 0
    for label, allowed in matrix.items():
        operation = next((op for key, op in operations.items() if label.startswith(key)), None)
        assert operation is not None, f"the matrix row {label!r} has no test"
        if allowed[role]:
            await operation()
        else:
            with pytest.raises(PermissionDenied):
                await operation()
        checked += 1
    assert checked == len(operations)
