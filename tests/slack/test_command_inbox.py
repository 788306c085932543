"""The inbox of slow slash commands, in one process: a command done within the ack
window never touches it; a slow one is stored before "Working on it…" and marked done
after its work; when the inbox write itself fails the ack says so honestly."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from waiting import eventually

from bot.slack import app as slack_app
from bot.slack.inbox import PLATFORM
from core.db import Database
from core.store.inbox import InboxStore

from .test_command_ack import Gated, _fields

TRIGGER = "13345224609.738474920.8088930838d88f008e0"


async def _entries(db: Database) -> list[tuple[str, str, str]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT dedupe_key, status, claimed_by FROM chat_inbox"))
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


async def test_a_command_done_within_the_ack_window_is_not_written_to_the_inbox(
    make_surface: Any, fake: Any, sqlite_database: Database
) -> None:
    gated = Gated()
    gated.release.set()
    _surface, kairos = await make_surface(gated)
    response = await kairos.command(_fields(fake))
    assert response.status_code == 200
    assert "Working on it" not in response.text
    await eventually(lambda: any("Saved" in r.get("text", "") for r in fake.responses))
    assert await _entries(sqlite_database) == []  # the fast path pays no extra write


async def test_a_slow_command_is_stored_before_its_ack_and_done_after_its_work(
    make_surface: Any, fake: Any, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_app, "ACK_BUDGET_SECONDS", 0.05)
    gated = Gated()
    surface, kairos = await make_surface(gated)
    response = await kairos.command(_fields(fake))
    assert "Working on it" in response.text
    # By the time Slack hears "Working on it…" the command is durable, held by this process.
    assert await _entries(sqlite_database) == [(TRIGGER, "pending", surface.listeners.inbox.owner)]
    gated.release.set()
    await eventually(lambda: any("Saved" in r.get("text", "") for r in fake.responses))
    store = InboxStore(sqlite_database)

    async def done() -> bool:
        entry = await store.entry(platform=PLATFORM, dedupe_key=TRIGGER)
        return entry is not None and entry.status == "done" and entry.done_at is not None

    await eventually(done)


async def test_an_inbox_that_cannot_be_written_is_answered_honestly(
    make_surface: Any, fake: Any, sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_app, "ACK_BUDGET_SECONDS", 0.05)
    async with sqlite_database.engine.begin() as conn:  # the real write then fails
        await conn.execute(sa.text("DROP TABLE chat_inbox"))
    gated = Gated()
    _surface, kairos = await make_surface(gated)
    response = await kairos.command(_fields(fake))
    assert response.status_code == 200
    assert "Working on it" not in response.text
    assert "could not record this command" in response.text
    assert "try again" in response.text
    gated.release.set()  # the work, if it still completes, is still answered
    await eventually(lambda: any("Saved" in r.get("text", "") for r in fake.responses))
