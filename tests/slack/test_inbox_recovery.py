"""A slash command acked "Working on it…" by a ``kairos run`` that is then killed -9 is
done by another ``kairos run`` on the same database, exactly once, and answered on
its ``response_url`` (real processes, the fake Slack Web API at the network edge)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from waiting import eventually

from core.db import Database

from .fake_slack import FakeSlack, serving
from .signing import SECRET, form_request
from .test_served import Served

pytestmark = pytest.mark.slow

PAYLOAD = Path(__file__).parent / "payloads" / "slash_command.json"

Spawn = Callable[[str], Awaitable[Served]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with serving(FakeSlack(timezones={"U0001": "Europe/Berlin"})) as server:
        yield server


@pytest.fixture
async def spawn(database_url: str, fake: FakeSlack, tmp_path: Path) -> AsyncIterator[Spawn]:
    started: list[Served] = []

    async def start(name: str) -> Served:
        env = {
            **os.environ,
            "KAIROS_DATABASE_URL": database_url,
            "KAIROS_HTTP_PORT": "0",
            "KAIROS_LOG_FORMAT": "json",
            "KAIROS_SLACK_BOT_TOKEN": "xoxb-inbox-test",
            "KAIROS_SLACK_SIGNING_SECRET": SECRET,
            "KAIROS_SLACK_API_URL": fake.api_url,  # type: ignore[attr-defined]
        }
        workdir = tmp_path / name
        workdir.mkdir()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--no-console",
            cwd=workdir, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        served = Served(proc)
        started.append(served)
        await eventually(lambda: served.url() or proc.returncode is not None, within=60)
        assert proc.returncode is None, "\n".join(served.lines)
        return served

    yield start
    for served in started:
        if served.proc.returncode is None:
            served.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(served.proc.wait(), 30)
            except TimeoutError:
                served.proc.kill()
                await served.proc.wait()
        await served.reader


async def _scalar(url: str, query: str) -> Any:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return (await conn.execute(sa.text(query))).one()
    finally:
        await db.dispose()


async def _slow_command(served: Served, fake: FakeSlack, text: str, answer: str) -> None:
    """Send ``text`` as a slash command whose work outlasts the ack window (its
    users.info is slow): acked "Working on it…", its work still going on."""
    fields = json.loads(PAYLOAD.read_text()) | {
        "text": text,
        "response_url": fake.response_url(answer),
    }
    fake.latency = 3.0
    url = served.url()
    assert url is not None
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        body, headers = form_request(fields)
        acked = await client.post("/slack/events", content=body, headers=headers)
    assert acked.status_code == 200
    assert "Working on it" in acked.text


async def test_a_command_whose_process_was_killed_is_done_once_by_another(
    spawn: Spawn, fake: FakeSlack, database_url: str
) -> None:
    first, second = await spawn("a"), await spawn("b")
    await _slow_command(first, fake, "remind me to water the plants tomorrow at 5pm", "inbox")
    os.killpg(first.proc.pid, signal.SIGKILL)  # before its work could commit
    await first.proc.wait()  # reaped: its pid is gone, as after a real crash
    fake.latency = 0.0

    await eventually(lambda: len(fake.responses) >= 1, within=30)
    status, attempts = await _scalar(database_url, "SELECT status, attempts FROM chat_inbox")
    assert (status, attempts) == ("done", 2)  # taken over once, then finished
    second_pid = str(second.proc.pid)
    taker = (await _scalar(database_url, "SELECT claimed_by FROM chat_inbox"))[0]
    assert taker.split(":")[1] == second_pid
    (tasks,) = await _scalar(database_url, "SELECT count(*) FROM tasks")
    assert tasks == 1  # done exactly once
    answer = fake.responses
    assert len(answer) == 1 and answer[0]["url"].endswith("/response/inbox")
    assert "water the plants" in json.dumps(answer[0])
    assert any("recovering slash command" in line for line in second.lines)


async def test_a_process_killed_between_its_work_and_the_done_mark_is_not_redone(
    spawn: Spawn, fake: FakeSlack, database_url: str
) -> None:
    """The seam is held open by a row lock on the inbox entry: were the mark written
    after the work's commit, the task would be committed while the mark waits; written
    in the work's transaction, the task's commit waits with it. The process is killed
    there, and the process that takes the command over must create the task once."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a row lock holds the seam open on PostgreSQL (SQLite locks the file)")
    first, _second = await spawn("a"), await spawn("b")
    await _slow_command(first, fake, "remind me to feed the cat tomorrow at 5pm", "seam")
    fake.latency = 0.0
    db = Database(database_url)
    try:
        async with db.engine.connect() as lock:
            await lock.execute(sa.text("SELECT id FROM chat_inbox FOR UPDATE"))

            async def at_the_seam() -> bool:
                async with db.engine.connect() as conn:
                    tasks = (await conn.execute(sa.text("SELECT count(*) FROM tasks"))).scalar()
                    waiting = await conn.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND wait_event_type = 'Lock' "
                            "AND query ILIKE 'INSERT INTO chat_inbox%'"  # not the lease renewal
                        )
                    )
                    return bool(tasks) or bool(waiting.scalar())

            await eventually(at_the_seam, within=30)
            os.killpg(first.proc.pid, signal.SIGKILL)  # its work done, its mark not yet
            await first.proc.wait()
            await lock.rollback()
    finally:
        await db.dispose()

    await eventually(lambda: len(fake.responses) >= 1, within=30)
    (tasks,) = await _scalar(database_url, "SELECT count(*) FROM tasks")
    assert tasks == 1  # not twice
    status, attempts = await _scalar(database_url, "SELECT status, attempts FROM chat_inbox")
    assert (status, attempts) == ("done", 2)
    assert len(fake.responses) == 1 and "feed the cat" in json.dumps(fake.responses[0])
