"""A slash command is acked only once its work is committed (issue 8: a command a crash
lost must never have been answered "ok"); work slower than Slack's 3 s is acked as
received ("Working on it…") and answered when done; a failed write is answered honestly."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from waiting import eventually

from bot.slack import app as slack_app
from core.errors import StoreError
from core.messages import Inbound, Reply
from core.store import SqlStore

PAYLOADS = Path(__file__).parent / "payloads"


class Gated:
    """A conversation whose work (standing for the task's commit) waits for ``release``."""

    def __init__(self, *, fail: bool = False) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.order: list[str] = []
        self.fail = fail

    async def handle(self, inbound: Inbound) -> list[Reply]:
        self.started.set()
        await self.release.wait()
        self.order.append("committed")
        if self.fail:
            raise StoreError(
                "The database could not complete the operation.", hint="Try again in a moment."
            )
        return [Reply(text="Saved: water the plants")]

    async def press(self, inbound: Inbound, *, action: str, value: str) -> list[Reply]:
        return []


def _fields(fake: Any) -> dict[str, str]:
    fields: dict[str, str] = json.loads((PAYLOADS / "slash_command.json").read_text())
    return fields | {
        "text": "remind me to water the plants at 5pm",
        "response_url": fake.response_url(),
    }


async def test_the_ack_waits_for_the_commit(make_surface: Any, fake: Any) -> None:
    gated = Gated()
    _surface, kairos = await make_surface(gated)

    async def command() -> Any:
        response = await kairos.command(_fields(fake))
        gated.order.append("acked")
        return response

    sent = asyncio.create_task(command())
    await gated.started.wait()
    gated.release.set()
    response = await sent
    assert response.status_code == 200
    assert gated.order == ["committed", "acked"]  # never "ok" before the work is durable
    assert "Working on it" not in response.text
    await eventually(lambda: any("Saved" in r.get("text", "") for r in fake.responses))


async def test_slow_work_is_acked_as_received_and_answered_when_done(
    make_surface: Any, fake: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_app, "ACK_BUDGET_SECONDS", 0.05)
    gated = Gated()
    _surface, kairos = await make_surface(gated)
    response = await kairos.command(_fields(fake))
    assert response.status_code == 200
    assert "Working on it" in response.text  # received, not claimed done
    assert gated.order == []
    gated.release.set()
    await eventually(lambda: any("Saved" in r.get("text", "") for r in fake.responses))


async def test_a_failed_write_is_answered_honestly(make_surface: Any, fake: Any) -> None:
    gated = Gated(fail=True)
    gated.release.set()
    _surface, kairos = await make_surface(gated)
    response = await kairos.command(_fields(fake))
    assert response.status_code == 200
    assert gated.order == ["committed"]
    await eventually(lambda: any("Try again" in r.get("text", "") for r in fake.responses))
    assert not any("Saved" in r.get("text", "") for r in fake.responses)


class _DatabaseAway(SqlStore):
    """Registering the person fails as it does while the database is away."""

    async def ensure_workspace(self, *args: Any, **kwargs: Any) -> Any:
        raise StoreError("The database could not complete the operation.", hint="Try again.")


async def test_a_database_away_while_the_person_is_looked_up_is_the_commands_answer(
    make_surface: Any, fake: Any, sqlite_database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    gated = Gated()
    gated.release.set()
    _surface, kairos = await make_surface(gated, store=_DatabaseAway(sqlite_database))
    response = await kairos.command(_fields(fake))
    assert response.status_code == 200  # acked, not bolt's "didn't call ack()"
    answer = await eventually(lambda: [r for r in fake.responses if "could not" in str(r)])
    assert "Try again" in answer[0]["text"]
    assert not gated.started.is_set()  # nothing was done with an unknown person
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
