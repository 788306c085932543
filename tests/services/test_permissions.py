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
