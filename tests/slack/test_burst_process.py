"""Reminders due at the same instant leave a real ``kairos run`` together, not in a line.

Issue 8's chaos benchmark saw one replica post a second's reminders one Slack
round trip apart: a lock on the delivery path (there: one per Web API method in
the pacer, which every DM reminder's ``conversations.open`` and every crash
retry's ``conversations.history`` went through). Here a real server process fires
reminders — to channels and to people's DMs — due at one instant, against the
fake Slack answering each call after a fixed latency; the fake counts how many
reminder posts it holds at once. A serial path holds one; the assertion asks for
many. (How late they are is the benchmark's figure, not this test's.)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from scheduler.procs import kairos_run, stop_server
from waiting import eventually

from core.clock import SystemClock
from core.db import Database
from core.enums import Platform
from core.services.tasks import TaskService
from core.store import SqlStore

from .conftest import BOT_TOKEN
from .fake_slack import FakeSlack, serving
from .signing import SECRET

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

POSTGRES = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)

#: Seconds the fake takes to answer every call.
LATENCY = 3.0
CHANNELS = 10
PEOPLE = 30


class CountingSlack(FakeSlack):
    """The fake Slack, counting the reminder posts it holds at once."""

    reminders_in_flight = 0
    max_reminders_in_flight = 0
    reminders = 0

    async def _api(self, request: web.Request) -> web.Response:
        is_reminder = (
            request.match_info["method"] == "chat.postMessage"
            and b"Reminder" in await request.read()  # aiohttp keeps the body for the fake
        )
        if not is_reminder:
            return await super()._api(request)
        self.reminders += 1
        self.reminders_in_flight += 1
        self.max_reminders_in_flight = max(self.max_reminders_in_flight, self.reminders_in_flight)
        try:
            return await super()._api(request)
        finally:
            self.reminders_in_flight -= 1


@pytest.fixture
async def slack() -> AsyncIterator[CountingSlack]:
    async with serving(CountingSlack()) as server:
        yield server


def _env(database_url: str, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAIROS_")}
    return env | {
        "KAIROS_DATABASE_URL": database_url,
        "KAIROS_HTTP_PORT": "0",
        "KAIROS_LOG_LEVEL": "INFO",
        "KAIROS_DEFAULT_TIMEZONE": "UTC",
        "KAIROS_SLACK_BOT_TOKEN": BOT_TOKEN,
        "KAIROS_SLACK_SIGNING_SECRET": SECRET,
        "KAIROS_SLACK_API_URL": api_url,
    }


@POSTGRES
async def test_reminders_due_together_are_posted_together(
    database_url: str, slack: CountingSlack, tmp_path: Path
) -> None:
    slack.latency = LATENCY
    db = Database(database_url)
    store = SqlStore(db)
    workspace = await store.ensure_workspace(Platform.SLACK, "T0001", default_timezone="UTC")
    assert workspace.id is not None
    actor = await store.ensure_member(workspace.id, "U9999", display_name="tester")
    service = TaskService(store=store, clock=SystemClock())  # no engine: the server fires
    stderr = tmp_path / "server.stderr"
    env = _env(database_url, slack.api_url)  # type: ignore[attr-defined]
    proc = await kairos_run(env, tmp_path, stderr)
    try:
        await eventually(lambda: "Kairos is running" in stderr.read_text(), within=90)
        # Far enough ahead for every reminder to be written (and seen by the server) first.
        at = (datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0)
        schedule = {"kind": "once", "at": at.isoformat(), "timezone": "UTC"}
        for i in range(CHANNELS):
            await service.create(
                {"title": f"channel {i}", "schedule": schedule, "channel_ref": f"C{i:04d}"},
                actor=actor,
            )
        for i in range(PEOPLE):  # each in its own DM: conversations.open first
            await service.create(
                {"title": f"person {i}", "schedule": schedule, "assignees": [f"U{i:04d}"]},
                actor=actor,
            )
        total = CHANNELS + PEOPLE
        await eventually(lambda: slack.reminders >= total, within=90)
        # Posted one after the other, the fake would hold one at a time; a lock on
        # opening DMs would cap it near CHANNELS + 2.
        assert slack.max_reminders_in_flight >= CHANNELS + 5, (
            slack.max_reminders_in_flight,
            stderr.read_text()[-2000:],
        )
        assert slack.reminders == total

    finally:
        await stop_server(proc)
        await db.dispose()
