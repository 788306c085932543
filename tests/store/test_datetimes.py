"""Timezone-aware datetimes survive a round trip on both backends, and naive ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.errors import StoreError
from core.models import Task, Workspace
from core.store import SqlStore, TaskQuery


@pytest.mark.parametrize(
    "due",
    [
        datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")),  # just before a DST jump
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),  # ambiguous hour
        datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
        datetime(1999, 12, 31, 23, 0, tzinfo=UTC),
    ],
)
async def test_aware_datetime_round_trip(
    store: SqlStore, workspace: Workspace, due: datetime
) -> None:
    assert workspace.id is not None
    created = await store.insert_task(Task(workspace_id=workspace.id, title="t", due=due))
    loaded = await store.get_task(created.id)
    # The same instant (compared in UTC: PEP 495 makes fold=1 times unequal across zones) ...
    assert loaded.due == due.astimezone(UTC)
    assert loaded.due is not None and loaded.due.tzinfo == UTC  # ... always handed back in UTC
    assert loaded.due.utcoffset() == timedelta(0)
    # Range filters compare instants, whatever zone they are written in. (Arithmetic in
    # UTC: wall-clock arithmetic on a fold=1 time would land an hour away.)
    at = due.astimezone(UTC)
    window = TaskQuery(
        due_after=(at - timedelta(microseconds=1)).astimezone(ZoneInfo("Pacific/Auckland")),
        due_before=at + timedelta(seconds=1),
    )
    assert [t.id for t in await store.query_tasks(workspace.id, window, now=due)] == [created.id]
    after = TaskQuery(due_after=(at + timedelta(microseconds=1)).astimezone(ZoneInfo("Asia/Tokyo")))
    assert await store.query_tasks(workspace.id, after, now=due) == []


async def test_naive_datetime_is_refused(store: SqlStore, workspace: Workspace) -> None:
    assert workspace.id is not None
    with pytest.raises(StoreError):
        await store.insert_task(
            Task(workspace_id=workspace.id, title="t", due=datetime(2026, 1, 1))
        )
    assert await store.query_tasks(workspace.id, TaskQuery(), now=datetime.now(UTC)) == []
