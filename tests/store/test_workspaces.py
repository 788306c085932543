"""Store contract: workspaces and members (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from core.enums import Platform, Role
from core.errors import InvalidInput, NotFound
from core.models import Member, Workspace
from core.store import SqlStore


async def test_ensure_workspace_is_idempotent(store: SqlStore) -> None:
    first = await store.ensure_workspace(
        Platform.SLACK, "T1", name="Acme", default_timezone="Asia/Tokyo"
    )
    again = await store.ensure_workspace(Platform.SLACK, "T1", name="ignored")
    assert again.id == first.id
    assert again.name == "Acme"
    assert again.default_timezone == "Asia/Tokyo"
    other_platform = await store.ensure_workspace(Platform.DISCORD, "T1")
    assert other_platform.id != first.id
    assert other_platform.default_timezone == "UTC"


async def test_ensure_workspace_concurrently_creates_one(store: SqlStore) -> None:
    results = await asyncio.gather(
        *(store.ensure_workspace(Platform.CONSOLE, "local") for _ in range(5))
    )
    assert len({w.id for w in results}) == 1


async def test_find_get_update_workspace(store: SqlStore, workspace: Workspace) -> None:
    assert workspace.id is not None
    assert (await store.find_workspace(Platform.SLACK, "T0001")) == workspace
    assert await store.find_workspace(Platform.SLACK, "nope") is None
    updated = await store.update_workspace(workspace.id, default_timezone="UTC", name="New")
    assert (updated.name, updated.default_timezone) == ("New", "UTC")
    assert (await store.get_workspace(workspace.id)).name == "New"
    with pytest.raises(NotFound, match="Workspace #999 does not exist"):
        await store.get_workspace(999)


async def test_ensure_member_registers_then_refreshes_profile(
    store: SqlStore, workspace: Workspace
) -> None:
    assert workspace.id is not None
    created = await store.ensure_member(workspace.id, "U9", display_name="carol", role=Role.VIEWER)
    assert created.role == Role.VIEWER
    assert created.timezone is None
    again = await store.ensure_member(
        workspace.id, "U9", display_name="Carol B", timezone="Europe/Paris", role=Role.ADMIN
    )
    assert again.id == created.id
    assert again.display_name == "Carol B"
    assert again.timezone == "Europe/Paris"
    # Seeing someone again never changes their permissions.
    assert again.role == Role.VIEWER
    # An empty name does not erase the known one.
    assert (await store.ensure_member(workspace.id, "U9")).display_name == "Carol B"


async def test_members_are_per_workspace(
    store: SqlStore, workspace: Workspace, member: Member
) -> None:
    other = await store.ensure_workspace(Platform.SLACK, "T0002")
    assert other.id is not None
    twin = await store.ensure_member(other.id, "U0001", display_name="alice")
    assert twin.id != member.id
    assert member.id is not None
    with pytest.raises(NotFound):
        await store.get_member(member.id, workspace_id=other.id)
    assert (await store.get_member(member.id, workspace_id=workspace.id)).id == member.id


async def test_find_member_by_id_name_or_mention(
    store: SqlStore, workspace: Workspace, member: Member, other_member: Member
) -> None:
    assert workspace.id is not None
    for ref in ["U0001", "alice", "ALICE", "@alice", "@U0001"]:
        found = await store.find_member(workspace.id, ref)
        assert found is not None and found.id == member.id, ref
    assert await store.find_member(workspace.id, "nobody") is None
    assert await store.find_member(workspace.id, "  ") is None


async def test_find_member_with_ambiguous_name(store: SqlStore, workspace: Workspace) -> None:
    assert workspace.id is not None
    await store.ensure_member(workspace.id, "U7", display_name="sam")
    await store.ensure_member(workspace.id, "U8", display_name="Sam")
    with pytest.raises(InvalidInput) as info:
        await store.find_member(workspace.id, "sam")
    assert info.value.user_message() == (
        "Several people are called 'sam'. Mention the person (@name) so Kairos knows who you mean."
    )


async def test_list_and_update_members(
    store: SqlStore, workspace: Workspace, member: Member, other_member: Member
) -> None:
    assert workspace.id is not None and member.id is not None
    assert [m.platform_user_id for m in await store.list_members(workspace.id)] == [
        "U0001",
        "U0002",
    ]
    changed = await store.update_member(member.id, role=Role.VIEWER, timezone="UTC")
    assert (changed.role, changed.timezone) == (Role.VIEWER, "UTC")
    with pytest.raises(NotFound):
        await store.update_member(12345, role=Role.ADMIN)
