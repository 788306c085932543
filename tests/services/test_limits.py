"""Values that cannot be shown or stored are refused (or cleaned) on the way in — both backends.

A task due in year 9999 broke every list east of UTC; a NUL in a title made
PostgreSQL refuse the insert forever ("try again in a moment"). Now dates
outside 1970–9000 are refused with a clear message, free text loses the
characters no column can hold, and other fields carrying them are refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from core.db import Database
from core.errors import InvalidInput
from core.models import Member
from core.services.tasks import TaskService

from .helpers import snapshot

RANGE = "Kairos keeps dates from 1970 up to the year 9000. Pick a date between 1970 and 9000."
UNSTORABLE = "cannot be stored (a NUL byte or an unpaired surrogate)"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"due": "9999-12-31T23:59"}, f"The due time 9999-12-31 23:59 is out of range: {RANGE}"),
        ({"due": "9000-01-01T00:00Z"}, "The due time 9000-01-01 00:00+00:00 is out of range"),
        ({"due": "1969-12-31T23:59Z"}, "The due time 1969-12-31 23:59+00:00 is out of range"),
        ({"due": "0001-01-01T00:00+14:00"}, "The due time 0001-01-01 00:00+14:00 is out of range"),
        (
            {"schedule": {"kind": "once", "at": "9999-01-01T09:00+00:00"}},
            "The time 9999-01-01 09:00+00:00 is out of range",
        ),
        (
            {"schedule": {"kind": "interval", "every_seconds": 60, "end": "9500-01-01T00:00Z"}},
            "The schedule's end time 9500-01-01 00:00+00:00 is out of range",
        ),
        (
            {"channel_ref": "C1\x00"},
            f"The field 'channel_ref' contains a character that {UNSTORABLE}",
        ),
        (
            {"assignees": ["ana\ud800"]},
            f"The field 'assignees' contains a character that {UNSTORABLE}",
        ),
    ],
)
async def test_out_of_range_or_unstorable_values_are_refused_and_nothing_is_written(
    task_service: TaskService,
    member: Member,
    database: Database,
    fields: dict[str, Any],
    message: str,
) -> None:
    before = await snapshot(database)
    with pytest.raises(InvalidInput) as caught:
        await task_service.create({"title": "far away", **fields}, actor=member)
    assert message in caught.value.user_message()
    assert await snapshot(database) == before


async def test_nul_and_lone_surrogates_are_stripped_from_free_text(
    task_service: TaskService, member: Member
) -> None:
    task = await task_service.create(
        {"title": "water\x00 the \ud83dplants", "description": "every\x00day\udfff"}, actor=member
    )
    stored = await task_service.get(task.id, workspace_id=member.workspace_id)
    assert (stored.title, stored.description) == ("water the plants", "everyday")
    updated = await task_service.update(task.id, {"title": "\x00cacti\x00"}, actor=member)
    assert updated.title == "cacti"
    with pytest.raises(InvalidInput, match="The task title is empty"):
        await task_service.update(task.id, {"title": "\x00\x00"}, actor=member)


async def test_the_edges_of_the_range_are_kept(task_service: TaskService, member: Member) -> None:
    late = await task_service.create({"title": "late", "due": "8999-12-31T23:59Z"}, actor=member)
    early = await task_service.create({"title": "early", "due": "1970-01-01T00:00Z"}, actor=member)
    assert late.due is not None and late.due.year == 8999
    assert early.due == datetime.fromisoformat("1970-01-01T00:00+00:00")
