"""Every bad input gets a clear domain error with the exact user-facing text, and a
failed mutation leaves the database exactly as it was (both backends)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from core.db import Database
from core.enums import Platform, Role
from core.errors import (
    Conflict,
    InvalidInput,
    InvalidSchedule,
    NotFound,
    PermissionDenied,
    StoreError,
)
from core.models import Member, TaskCreate
from core.services.tasks import TaskService
from core.store import SqlStore

from .helpers import T0, snapshot

if TYPE_CHECKING:
    from conftest import RecordingListener

ZONE_HINT = "Use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'."
ISO_HINT = "Write it in ISO 8601, e.g. '2026-03-05T17:00' or '2026-03-05T17:00+01:00'."
SCHEDULE_HINT = "See 'kairos --help' or PARSING.md for the schedule forms Kairos accepts."

BAD_CREATES: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("empty title", {"title": ""}, InvalidInput,
     "The task title is empty. Give the task a short title, e.g. 'Send the weekly report'."),
    ("blank title", {"title": " \t\n "}, InvalidInput,
     "The task title is empty. Give the task a short title, e.g. 'Send the weekly report'."),
    ("missing title", {"description": "no title"}, InvalidInput,
     "The task title is empty. Give the task a short title, e.g. 'Send the weekly report'."),
    ("title too long", {"title": "x" * 501}, InvalidInput,
     "The task title is 501 characters long; the limit is 500. "
     "Shorten the title and put the details in the description."),
    ("description too long", {"title": "t", "description": "d" * 10_001}, InvalidInput,
     "The description is 10001 characters long; the limit is 10000. "
     "Shorten it, or link to a document instead."),
    ("unknown zone", {"title": "t", "timezone": "Mars/Olympus"}, InvalidSchedule,
     f"Unknown time zone 'Mars/Olympus'. {ZONE_HINT}"),
    ("empty zone", {"title": "t", "timezone": " "}, InvalidSchedule,
     f"The time zone is empty. {ZONE_HINT}"),
    ("impossible due", {"title": "t", "due": "next blursday"}, InvalidInput,
     f"The due time 'next blursday' is not a date and time Kairos understands. {ISO_HINT}"),
    ("impossible date", {"title": "t", "due": "2026-02-30T10:00"}, InvalidInput,
     f"The due time '2026-02-30T10:00' is not a date and time Kairos understands. {ISO_HINT}"),
    ("empty due", {"title": "t", "due": ""}, InvalidInput,
     f"The due time '' is not a date and time Kairos understands. {ISO_HINT}"),
    ("due of wrong type", {"title": "t", "due": 1772442000}, InvalidInput,
     f"The due time must be a date and time, not int. {ISO_HINT}"),
    ("schedule kind", {"title": "t", "schedule": {"kind": "sometimes"}}, InvalidSchedule,
     "Invalid schedule (schedule: Input tag 'sometimes' found using 'kind' does not match any "
     "of the expected tags: 'once', 'interval', 'cron', 'rrule', 'event', 'mixed'). "
     + SCHEDULE_HINT),
    ("schedule not data", {"title": "t", "schedule": "daily"}, InvalidSchedule,
     "Invalid schedule (schedule: Input should be a valid dictionary or object to extract "
     "fields from). " + SCHEDULE_HINT),
    ("interval too short", {"title": "t", "schedule": {"kind": "interval", "every_seconds": 5}},
     InvalidSchedule,
     "Invalid schedule (interval.every_seconds: Value error, an interval must be at least 10 "
     "seconds, got 5). " + SCHEDULE_HINT),
    ("bad cron", {"title": "t", "schedule": {"kind": "cron", "cron": "0 25 * * *"}},
     InvalidSchedule, None),
    ("cron that never fires", {"title": "t", "schedule": {"kind": "cron", "cron": "0 0 30 2 *"}},
     InvalidSchedule,
     "The cron expression '0 0 30 2 *' never fires (no such date). "
     "Check the day-of-month and month fields (e.g. there is no 30 February)."),
    ("bad rrule", {"title": "t", "schedule": {"kind": "rrule", "rrule": "FREQ=SOMETIMES"}},
     InvalidSchedule, None),
    ("once in the past",
     {"title": "t", "schedule": {"kind": "once", "at": T0 - timedelta(hours=1)}}, InvalidSchedule,
     "This schedule never fires after now: its times are all in the past. "
     "Pick a time in the future."),
    ("priority", {"title": "t", "priority": "super"}, InvalidInput,
     "Some task fields are not valid (priority: Input should be 'low', 'normal', 'high' or "
     "'urgent'). Correct those fields and try again."),
    ("negative grace", {"title": "t", "misfire_grace_seconds": -1}, InvalidInput,
     "Some task fields are not valid (misfire_grace_seconds: Input should be greater than or "
     "equal to 0). Correct those fields and try again."),
    ("unknown field", {"title": "t", "colour": "red"}, InvalidInput, None),
    ("missing dependency", {"title": "t", "depends_on": [4242]}, NotFound,
     "Task #4242 does not exist, so this task cannot depend on it. "
     "List your tasks to see their numbers."),
    ("missing dependencies", {"title": "t", "depends_on": [4243, "#4242"]}, NotFound,
     "Tasks #4242, #4243 do not exist, so this task cannot depend on them. "
     "List your tasks to see their numbers."),
    ("dependency not a number", {"title": "t", "depends_on": ["soon"]}, InvalidInput,
     "'soon' is not a task number. Give dependencies as task numbers, e.g. #12."),
    ("empty assignee", {"title": "t", "assignees": ["me", " "]}, InvalidInput,
     "One of the assignees is empty. Name each person or mention them (@name)."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [pytest.param(d, e, m, id=name) for name, d, e, m in BAD_CREATES],
)
async def test_bad_create_is_refused_and_writes_nothing(
    task_service: TaskService, database: Database, member: Member,
    listener: RecordingListener, data: dict[str, Any], error: type[Exception],
    message: str | None,
) -> None:  # fmt: skip
    # New assignees would be registered: make sure a refusal also undoes that.
    data = {**data, "assignees": data.get("assignees", ["newcomer"])}
    before = await snapshot(database)
    with pytest.raises(error) as info:
        await task_service.create(data, actor=member)
    assert isinstance(info.value, InvalidInput | NotFound | Conflict)
    text = info.value.user_message()
    if message is not None:
        assert text == message
    else:  # messages owned by other modules: check they name the problem and a way out
        assert len(text) > 30 and text.endswith((".", ")"))
    assert await snapshot(database) == before
    assert listener.changed == []


async def test_unknown_field_message(task_service: TaskService, member: Member) -> None:
    with pytest.raises(InvalidInput) as info:
        await task_service.update(1, {"colour": "red"}, actor=member)
    assert info.value.user_message() == (
        "Unknown task field(s): colour. Known fields: action, assignees, channel_ref, "
        "depends_on, description, due, enabled, misfire_grace_seconds, misfire_policy, "
        "priority, private, retry_policy, schedule, thread_ref, timezone, title."
    )


async def test_cron_error_names_the_field(task_service: TaskService, member: Member) -> None:
    with pytest.raises(InvalidSchedule) as info:
        await task_service.create(
            {"title": "t", "schedule": {"kind": "cron", "cron": "0 25 * * *"}}, actor=member
        )
    assert "'0 25 * * *'" in info.value.user_message()
    assert "hour" in info.value.user_message()


Mutation = Callable[[TaskService, int, Member], Awaitable[object]]
MUTATIONS: dict[str, Mutation] = {
    "update": lambda s, i, m: s.update(i, {"title": "x"}, actor=m),
    "complete": lambda s, i, m: s.complete(i, actor=m),
    "reopen": lambda s, i, m: s.reopen(i, actor=m),
    "pause": lambda s, i, m: s.pause(i, actor=m),
    "resume": lambda s, i, m: s.resume(i, actor=m),
    "delete": lambda s, i, m: s.delete(i, actor=m),
    "restore": lambda s, i, m: s.restore(i, actor=m),
    "get": lambda s, i, m: s.get(i, workspace_id=m.workspace_id),
    "history": lambda s, i, m: s.history(i, workspace_id=m.workspace_id),
}


@pytest.mark.parametrize("operation", list(MUTATIONS))
async def test_unknown_task_id(
    task_service: TaskService, database: Database, member: Member, operation: str
) -> None:
    before = await snapshot(database)
    with pytest.raises(NotFound) as info:
        await MUTATIONS[operation](task_service, 4242, member)
    assert info.value.user_message() == (
        "Task #4242 does not exist. List your tasks to see their numbers."
    )
    assert await snapshot(database) == before


@pytest.mark.parametrize("operation", list(MUTATIONS))
async def test_task_of_another_workspace_is_not_found(
    task_service: TaskService, store: SqlStore, database: Database, member: Member,
    operation: str,
) -> None:  # fmt: skip
    elsewhere = await store.ensure_workspace(Platform.DISCORD, "G1")
    assert elsewhere.id is not None
    stranger = await store.ensure_member(elsewhere.id, "D1", display_name="eve")
    theirs = await task_service.create({"title": "private"}, actor=stranger)
    before = await snapshot(database)
    with pytest.raises(NotFound) as info:
        await MUTATIONS[operation](task_service, theirs.id, member)
    assert info.value.user_message() == (
        f"Task #{theirs.id} does not exist. List your tasks to see their numbers."
    )
    assert await snapshot(database) == before
    # Nor can a task depend on another workspace's task.
    with pytest.raises(NotFound, match=f"Task #{theirs.id} does not exist, so this task"):
        await task_service.create({"title": "t", "depends_on": [theirs.id]}, actor=member)


async def test_dependency_loop_is_a_conflict_and_changes_nothing(
    task_service: TaskService, database: Database, member: Member
) -> None:
    a = await task_service.create({"title": "a"}, actor=member)
    b = await task_service.create({"title": "b", "depends_on": [a.id]}, actor=member)
    c = await task_service.create({"title": "c", "depends_on": [b.id]}, actor=member)
    before = await snapshot(database)
    with pytest.raises(Conflict) as info:
        await task_service.update(
            a.id, {"depends_on": [c.id], "title": "renamed", "assignees": ["newcomer"]},
            actor=member,
        )  # fmt: skip
    assert info.value.user_message() == (
        f"Task #{a.id} cannot depend on #{c.id}: that would make a loop "
        f"(#{a.id} → #{c.id} → #{b.id} → #{a.id}, where → means 'waits for'). "
        "Remove one of those dependencies first, or pick another task."
    )
    with pytest.raises(Conflict) as info:
        await task_service.update(a.id, {"depends_on": [a.id]}, actor=member)
    assert info.value.user_message() == (
        f"Task #{a.id} cannot depend on itself. Pick another task for it to wait for."
    )
    assert await snapshot(database) == before


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"title": "  "}, InvalidInput,
         "The task title is empty. Give the task a short title, e.g. 'Send the weekly report'."),
        ({"timezone": "Europe/Atlantis"}, InvalidSchedule,
         f"Unknown time zone 'Europe/Atlantis'. {ZONE_HINT}"),
        ({"due": "tomorrow-ish"}, InvalidInput,
         f"The due time 'tomorrow-ish' is not a date and time Kairos understands. {ISO_HINT}"),
        ({"schedule": {"kind": "once"}}, InvalidSchedule,
         f"Invalid schedule (once.at: Field required). {SCHEDULE_HINT}"),
        ({"priority": None}, InvalidInput,
         "The task field 'priority' cannot be empty. "
         "Give it a value, or leave it out to keep the current one."),
        ({"depends_on": [999]}, NotFound,
         "Task #999 does not exist, so this task cannot depend on it. "
         "List your tasks to see their numbers."),
    ],
)  # fmt: skip
async def test_bad_update_is_refused_and_writes_nothing(
    task_service: TaskService, database: Database, member: Member,
    listener: RecordingListener, changes: dict[str, Any], error: type[Exception], message: str,
) -> None:  # fmt: skip
    task = await task_service.create({"title": "t"}, actor=member)
    before = await snapshot(database)
    with pytest.raises(error) as info:
        await task_service.update(task.id, {**changes, "assignees": ["newcomer"]}, actor=member)
    assert isinstance(info.value, InvalidInput | NotFound)
    assert info.value.user_message() == message
    assert await snapshot(database) == before
    assert listener.changed == [task.id]  # the create only


async def test_ambiguous_assignee(
    task_service: TaskService, store: SqlStore, database: Database, member: Member
) -> None:
    await store.ensure_member(member.workspace_id, "U71", display_name="sam")
    await store.ensure_member(member.workspace_id, "U72", display_name="Sam")
    before = await snapshot(database)
    with pytest.raises(InvalidInput) as info:
        await task_service.create({"title": "t", "assignees": ["newcomer", "sam"]}, actor=member)
    assert info.value.user_message() == (
        "Several people are called 'sam'. Mention the person (@name) so Kairos knows who you mean."
    )
    assert await snapshot(database) == before


async def test_viewers_cannot_change_tasks(
    task_service: TaskService, store: SqlStore, database: Database, member: Member
) -> None:
    task = await task_service.create({"title": "t"}, actor=member)
    viewer = await store.ensure_member(member.workspace_id, "U-view", role=Role.VIEWER)
    before = await snapshot(database)
    for attempt in [
        task_service.create({"title": "t"}, actor=viewer),
        task_service.update(task.id, {"title": "x"}, actor=viewer),
        task_service.complete(task.id, actor=viewer),
        task_service.delete(task.id, actor=viewer),
    ]:
        with pytest.raises(PermissionDenied) as info:
            await attempt
        assert info.value.user_message() == (
            "Viewers cannot change tasks. Ask a workspace admin to give you the member role."
        )
    assert await snapshot(database) == before
    assert len(await task_service.query(workspace_id=member.workspace_id, actor=viewer)) == 1


async def test_typed_create_input_is_validated_too(
    task_service: TaskService, member: Member
) -> None:
    with pytest.raises(InvalidInput, match="The task title is empty"):
        await task_service.create(TaskCreate(title="   "), actor=member)
    with pytest.raises(InvalidSchedule, match="Unknown time zone 'Nowhere/Land'"):
        await task_service.create(TaskCreate(title="t", timezone="Nowhere/Land"), actor=member)


async def test_listener_failure_does_not_undo_the_change(
    store: SqlStore, member: Member, clock: Any
) -> None:
    class Broken:
        async def task_changed(self, task_id: int) -> None:
            raise RuntimeError("engine down")

    service = TaskService(store=store, clock=clock, listener=Broken())
    task = await service.create({"title": "t"}, actor=member)
    assert (await store.get_task(task.id)).title == "t"


@pytest.mark.parametrize(
    ("raised", "level", "traceback"),
    [
        (StoreError("terminating connection due to administrator command"), "WARNING", False),
        (RuntimeError("a bug in the engine"), "ERROR", True),
    ],
)
async def test_a_database_gone_before_the_engine_hears_is_one_line_a_bug_is_a_traceback(
    store: SqlStore,
    member: Member,
    clock: Any,
    caplog: pytest.LogCaptureFixture,
    raised: Exception,
    level: str,
    traceback: bool,
) -> None:
    """The change is committed either way; an outage between the commit and telling the
    engine is expected (the rescan sees the change), a bug is not."""
    if isinstance(raised, StoreError):
        raised.__cause__ = ConnectionResetError("connection reset by peer")

    class Broken:
        async def task_changed(self, task_id: int) -> None:
            raise raised

    service = TaskService(store=store, clock=clock, listener=Broken())
    with caplog.at_level(logging.WARNING, logger="core.services.tasks"):
        task = await service.create({"title": "t"}, actor=member)
    assert (await store.get_task(task.id)).title == "t"
    [record] = [r for r in caplog.records if r.name == "core.services.tasks"]
    assert record.levelname == level
    assert (record.exc_info is not None) is traceback
