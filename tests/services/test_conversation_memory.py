"""Conversation memory in the database: per person and place, expiring, surviving restarts."""

from __future__ import annotations

from datetime import timedelta

from core.clock import ManualClock
from core.models import Member, Workspace
from core.services.conversation import ConversationMemory
from core.store import SqlStore


async def test_a_question_belongs_to_the_person_and_place_asked(
    store: SqlStore, clock: ManualClock, workspace: Workspace
) -> None:
    memory = ConversationMemory(store=store, clock=clock)
    ws = workspace.id or 0
    await memory.ask(workspace_id=ws, place="eng", person="U1", question={"text": "remind me"})
    assert await memory.take_question(workspace_id=ws, place="eng", person="U2") is None
    assert await memory.take_question(workspace_id=ws, place="ops", person="U1") is None
    assert await memory.take_question(workspace_id=ws, place="eng", person="U1") == {
        "text": "remind me"
    }
    # Taken once: it is gone.
    assert await memory.take_question(workspace_id=ws, place="eng", person="U1") is None


async def test_memory_expires_and_survives_a_new_process(
    store: SqlStore, clock: ManualClock, workspace: Workspace
) -> None:
    ws = workspace.id or 0
    first = ConversationMemory(store=store, clock=clock)
    await first.discussed(workspace_id=ws, place="dm:U1", person="U1", task_id=7)
    restarted = ConversationMemory(store=store, clock=clock)  # nothing shared in memory
    assert await restarted.last_discussed(workspace_id=ws, place="dm:U1", person="U1") == 7
    assert await restarted.last_discussed(workspace_id=ws, place="dm:U1", person="U2") is None
    clock.advance(timedelta(minutes=11))
    assert await restarted.last_discussed(workspace_id=ws, place="dm:U1", person="U1") is None


async def test_a_channel_reminder_can_be_snoozed_by_anyone_there(
    store: SqlStore, clock: ManualClock, workspace: Workspace
) -> None:
    ws = workspace.id or 0
    memory = ConversationMemory(store=store, clock=clock)
    await memory.reminder_fired(workspace_id=ws, place="eng", person=None, task_id=3)
    await memory.reminder_fired(workspace_id=ws, place="dm:U1", person="U1", task_id=4)
    assert await memory.last_fired(workspace_id=ws, place="eng", person="U9") == 3
    assert await memory.last_fired(workspace_id=ws, place="dm:U1", person="U1") == 4
    clock.advance(timedelta(minutes=30))  # "snooze" still means it; "it" has expired
    assert await memory.last_fired(workspace_id=ws, place="dm:U1", person="U1") == 4
    assert await memory.last_discussed(workspace_id=ws, place="dm:U1", person="U1") is None


async def test_undo_remembers_the_last_change_only(
    store: SqlStore, clock: ManualClock, workspace: Workspace, member: Member
) -> None:
    ws = workspace.id or 0
    memory = ConversationMemory(store=store, clock=clock)
    await memory.changed(workspace_id=ws, person="U1", task_id=1, undo={"op": "delete"})
    await memory.changed(workspace_id=ws, person="U1", task_id=2, undo={"op": "reopen"})
    assert await memory.take_change(workspace_id=ws, person="U1") == (2, {"op": "reopen"})
    assert await memory.take_change(workspace_id=ws, person="U1") is None


async def test_search_finds_titles_and_comments(task_service, member: Member) -> None:
    first = await task_service.create({"title": "deploy v2"}, actor=member)
    second = await task_service.create({"title": "rotate keys"}, actor=member)
    await task_service.comment(second.id, "needed before the Deploy freeze", actor=member)
    found = await task_service.search("deploy", workspace_id=member.workspace_id)
    assert sorted(t.id for t in found) == [first.id, second.id]
    assert await task_service.search("nothing like it", workspace_id=member.workspace_id) == []
