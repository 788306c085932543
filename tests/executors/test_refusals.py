"""Never confirm a job that cannot run: the task service refuses at create and update,
with a message saying what to do, and stores nothing (both backends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.console import console_owner
from core.actions import parse_action
from core.clock import ManualClock
from core.db import Database
from core.enums import Platform, Role
from core.errors import InvalidInput, KairosError, NotConfigured, PermissionDenied
from core.models import Member
from core.services.actions import ActionChecker
from core.services.tasks import TaskService
from core.store import SqlStore

from .helpers import policy

ALL_TYPES = ("notify", "noop", "shell", "http", "sql", "digest")


async def snapshot(db: Database) -> list[tuple[Any, ...]]:
    """Every task and audit row: a refusal must leave both untouched."""
    import sqlalchemy as sa

    async with db.engine.connect() as conn:
        tasks = (await conn.execute(sa.text("SELECT * FROM tasks ORDER BY id"))).all()
        audit = (await conn.execute(sa.text("SELECT * FROM audit_events ORDER BY id"))).all()
    return [tuple(r) for r in [*tasks, *audit]]


def _service(store: SqlStore, clock: ManualClock, data_dir: Path, **changes: Any) -> TaskService:
    base: dict[str, Any] = {
        "shell_allow": ("backup.sh", "./scripts/*"),
        "http_allow_private": False,
        "sql_connections": {"sales": "sqlite:///sales.db"},
    }
    base.update(changes)
    checker = ActionChecker(store=store, policy=policy(data_dir, **base), available=ALL_TYPES)
    return TaskService(store=store, clock=clock, actions=checker)


def _job(action: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "job", "title": "j", "action": action}


REFUSED: list[tuple[str, dict[str, Any], type[KairosError], str, dict[str, Any]]] = [
    ("unknown type", {"type": "ftp"}, InvalidInput, "Use one of: notify", {}),
    ("no type", {"command": "x"}, InvalidInput, "The action has no type", {}),
    ("bad field", {"type": "shell", "command": "backup.sh", "colour": 1}, InvalidInput,
     "colour: Extra inputs are not permitted", {}),
    ("shell disabled", {"type": "shell", "command": "backup.sh"}, NotConfigured,
     "KAIROS_SHELL_ALLOW", {"shell_allow": ()}),
    ("command not allowed", {"type": "shell", "command": "rm -rf /"}, PermissionDenied,
     "Allowed patterns (KAIROS_SHELL_ALLOW): backup.sh, ./scripts/*", {}),
    ("bwrap missing", {"type": "shell", "command": "backup.sh"}, NotConfigured,
     "bubblewrap", {"shell_sandbox": "bwrap"}),
    ("unknown secret", {"type": "shell", "command": "backup.sh", "secrets": ["AWS"]},
     NotConfigured, "KAIROS_SECRETS", {}),
    ("private http", {"type": "http", "url": "http://10.0.0.5/admin"}, PermissionDenied,
     "KAIROS_HTTP_ALLOW_PRIVATE", {}),
    ("loopback http", {"type": "http", "url": "http://localhost:8080/"}, PermissionDenied,
     "internal address", {}),
    ("metadata http", {"type": "http", "url": "http://169.254.169.254/latest"},
     PermissionDenied, "internal address", {}),
    ("http scheme", {"type": "http", "url": "gopher://x"}, InvalidInput, "not http", {}),
    ("http secret", {"type": "http", "url": "https://93.184.216.34/?k={secret.K}"},
     NotConfigured, "Unknown secret(s): K", {}),
    ("unknown sql connection", {"type": "sql", "query": "SELECT 1", "connection": "hr"},
     NotConfigured, "Configured connections: sales", {}),
    ("no sql connections", {"type": "sql", "query": "SELECT 1"}, NotConfigured,
     "KAIROS_SQL_CONNECTIONS", {"sql_connections": {}}),
    ("ai without llm", {"type": "ai_prompt", "prompt": "summarize"}, NotConfigured,
     "KAIROS_ANTHROPIC_API_KEY", {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "error", "words", "changes"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
async def test_create_refuses_what_cannot_run(
    store: SqlStore,
    database: Database,
    clock: ManualClock,
    member: Member,
    data_dir: Path,
    action: dict[str, Any],
    error: type[KairosError],
    words: str,
    changes: dict[str, Any],
) -> None:
    service = _service(store, clock, data_dir, **changes)
    before = await snapshot(database)
    with pytest.raises(error) as refused:
        await service.create({"kind": "job", "title": "job", "action": action}, actor=member)
    assert words in refused.value.user_message()
    assert await snapshot(database) == before


async def test_update_refuses_too_and_keeps_the_old_action(
    store: SqlStore, clock: ManualClock, member: Member, data_dir: Path
) -> None:
    service = _service(store, clock, data_dir)
    task = await service.create(
        {"kind": "job", "title": "backup", "action": {"type": "shell", "command": "backup.sh"}},
        actor=member,
    )
    with pytest.raises(PermissionDenied, match="not allowed"):
        await service.update(
            task.id, {"action": {"type": "shell", "command": "curl x"}}, actor=member
        )
    kept = await service.get(task.id, workspace_id=member.workspace_id)
    assert kept.action == {"type": "shell", "command": "backup.sh"}


async def test_a_script_not_in_place_yet_is_stored_with_a_caveat_that_names_where(
    store: SqlStore, clock: ManualClock, member: Member, data_dir: Path
) -> None:
    """An allowed script that is not there yet: stored (it may be deployed later) but
    never confirmed silently — the caveat says where to put it; none once it is there."""
    service = _service(store, clock, data_dir)
    task = await service.create(
        {"kind": "job", "title": "backup", "action": {"type": "shell", "command": "backup.sh"}},
        actor=member,
    )
    [caveat] = service.caveats(task)
    workdir = data_dir / "work" / f"workspace-{member.workspace_id}"
    assert "no executable named 'backup.sh'" in caveat and str(workdir) in caveat
    script = workdir / "backup.sh"
    script.write_text("#!/bin/sh\necho ok\n")
    assert service.caveats(task)  # not executable yet
    script.chmod(0o755)
    assert service.caveats(task) == []
    on_path = await service.create(
        {"kind": "job", "title": "t", "action": {"type": "shell", "command": "./scripts/x"}},
        actor=member,
    )
    assert "in " + str(workdir) in service.caveats(on_path)[0]


async def test_members_may_not_create_privileged_jobs(
    store: SqlStore, clock: ManualClock, other_member: Member, member: Member, data_dir: Path
) -> None:
    assert other_member.role == Role.MEMBER and member.role == Role.ADMIN
    service = _service(store, clock, data_dir, http_allow_private=True)
    for action in (
        {"type": "shell", "command": "backup.sh"},
        {"type": "http", "url": "http://10.0.0.5/"},
        {"type": "sql", "query": "SELECT 1"},
    ):
        with pytest.raises(PermissionDenied, match="Only workspace admins") as refused:
            await service.create(
                {"kind": "job", "title": "j", "action": action}, actor=other_member
            )
        assert "Ask an admin" in refused.value.user_message()
        created = await service.create(
            {"kind": "job", "title": "j", "action": action}, actor=member
        )
        assert created.action is not None and created.action["type"] == action["type"]
    # Everyone may send reminders and digests.
    for action in ({"type": "notify"}, {"type": "digest"}):
        await service.create(_job(action), actor=other_member)


async def test_the_console_user_owns_the_console_workspace(
    store: SqlStore, clock: ManualClock, data_dir: Path
) -> None:
    service = _service(store, clock, data_dir)
    job = {"kind": "job", "title": "b", "action": {"type": "shell", "command": "backup.sh"}}
    workspace = await store.ensure_workspace(Platform.CONSOLE, "local")
    assert workspace.id is not None
    # Other people on the console (scripted conversations) are members like anywhere.
    guest = await store.ensure_member(workspace.id, "guest")
    with pytest.raises(PermissionDenied, match="Only workspace admins"):
        await service.create(job, actor=guest)
    me = await console_owner(store, user="me", timezone="UTC")
    assert me.role == Role.OWNER
    task = await service.create(job, actor=me)
    assert task.action == {"type": "shell", "command": "backup.sh"}


async def test_executor_not_installed_is_refused(
    store: SqlStore, clock: ManualClock, member: Member, data_dir: Path
) -> None:
    checker = ActionChecker(store=store, policy=policy(data_dir), available=("notify", "noop"))
    service = TaskService(store=store, clock=clock, actions=checker)
    with pytest.raises(NotConfigured, match="digest jobs are not enabled") as refused:
        await service.create(
            {"kind": "job", "title": "d", "action": {"type": "digest"}}, actor=member
        )
    assert "Enabled action types: noop, notify" in refused.value.user_message()


def test_actions_are_typed_and_stored_without_defaults() -> None:
    action = parse_action({"type": "http", "url": "https://x.test/", "method": "POST"})
    assert action.type == "http"
    from core.actions import dump_action

    assert dump_action(action) == {"type": "http", "url": "https://x.test/", "method": "POST"}
    with pytest.raises(InvalidInput, match="timeout_seconds"):
        parse_action({"type": "noop", "timeout_seconds": -1})
