"""'every night at 2 run backup.sh' end to end in the console chat: the real conversation,
engine, workers and shell executor on a ManualClock; the result is posted back; history
questions and the CLI answer from what was recorded."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from rich.console import Console
from waiting import eventually as _eventually

from bot.app import Kairos
from bot.console import ConsoleChat, console_owner, to_inbound
from bot.settings import Settings
from core.clock import ManualClock
from core.enums import Platform, RunStatus
from core.messages import Reply, ReplyKind
from core.models import Run

T = TypeVar("T")
ZONE = "Europe/Berlin"


@dataclass
class Console_:
    kairos: Kairos
    screen: io.StringIO
    clock: ManualClock

    async def say(self, text: str) -> Reply:
        replies = await self.kairos.conversation.handle(to_inbound(text, user="ana", timezone=ZONE))
        assert len(replies) == 1, replies
        return replies[0]

    def printed(self) -> str:
        return self.screen.getvalue()


async def eventually(probe: Callable[[], Awaitable[T | None]]) -> T:
    """The shared ``waiting.eventually`` with this file's deadline (a whole job runs)."""
    return await _eventually(probe, within=20.0)


async def _open(database_url: str, clock: ManualClock, **settings: object) -> Console_:
    config = Settings(database_url=database_url, default_timezone=ZONE, _env_file=None, **settings)  # type: ignore[call-arg]
    kairos = await Kairos.open(config, clock=clock)
    screen = io.StringIO()
    console = ConsoleChat(
        conversation=kairos.conversation,
        user="ana",
        console=Console(file=screen, width=200),
        timezone=ZONE,
    )
    kairos.add_chat(Platform.CONSOLE, console)
    await console_owner(kairos.store, user="ana", timezone=ZONE)
    await kairos.start()
    return Console_(kairos=kairos, screen=screen, clock=clock)


@pytest.fixture
async def chat(database_url: str, clock: ManualClock, data_dir: Path) -> AsyncIterator[Console_]:
    c = await _open(
        database_url, clock, shell_allow="backup.sh", data_dir=data_dir, shell_kill_grace_seconds=1
    )
    try:
        yield c
    finally:
        await c.kairos.close()


async def test_backup_every_night_runs_and_posts_its_result(chat: Console_) -> None:
    got = await chat.say("every night at 2 run backup.sh")
    assert got.kind is ReplyKind.CONFIRMATION, got.text
    task = await chat.kairos.store.get_task(got.task_id or 0)
    assert task.action == {"type": "shell", "command": "backup.sh"}
    workdir = chat.kairos.settings.execution_policy().workdir(task.workspace_id)
    script = workdir / "backup.sh"
    script.write_text('#!/bin/sh\necho "dumped 3 tables"\n')
    script.chmod(0o755)

    assert task.next_fire_at is not None
    chat.clock.set(task.next_fire_at + timedelta(seconds=1))
    await eventually(lambda: _has(chat, "completed in"))
    printed = chat.printed()
    assert f"✓ #{task.id} 'run backup.sh' completed in" in printed
    assert "dumped 3 tables" in printed and "[Show log]" in printed and "[Run again]" in printed

    async def finished() -> Run | None:
        # The result is posted as soon as the script ends; the outcome commit follows.
        run = (await chat.kairos.runs.runs_for(task.id))[0]
        return run if run.status != RunStatus.RUNNING else None  # a str on some paths

    run = await eventually(finished)
    assert (run.status, run.exit_code) == (RunStatus.COMPLETED, 0)
    assert run.log_excerpt == "dumped 3 tables\n"
    assert run.log_path is not None
    assert Path(run.log_path).read_text() == "dumped 3 tables\n"  # noqa: ASYNC240

    # The next night the script fails: history says why.
    script.write_text("#!/bin/sh\necho 'pg_dump: connection refused' >&2\nexit 2\n")
    chat.clock.advance(timedelta(days=1))
    await eventually(lambda: _has(chat, "failed after"))
    why = await chat.say("why did the backup fail?")
    assert "exit status 2" in why.text and "pg_dump: connection refused" in why.text
    assert "It has worked since" not in why.text
    runs = await chat.say(f"show the last runs of {task.id}")
    assert "50% succeeded (1/2)" in runs.text and "1 failed" in runs.text
    assert "completed" in runs.text and "failed" in runs.text
    failed = await chat.say("show failed runs")
    assert "exit status 2" in failed.text
    found = await chat.say("search the logs for connection refused")
    assert f"#{task.id}" in found.text
    log = await chat.kairos.conversation.press(
        to_inbound("", user="ana", timezone=ZONE), action="run.log", value=str(run.id + 1)
    )
    assert "pg_dump: connection refused" in log[0].text

    # Mended: the old failure is still explained, and the answer says it works again.
    script.write_text('#!/bin/sh\necho "dumped 3 tables"\n')
    await chat.say(f"run {task.id} now")

    async def completed_twice() -> bool | None:
        return True if chat.printed().count("completed in") >= 2 else None

    await eventually(completed_twice)
    again = await chat.say("why did the backup fail?")
    assert "pg_dump: connection refused" in again.text
    assert "It has worked since: run" in again.text


async def test_without_an_allow_list_the_job_is_refused_in_chat(
    database_url: str, clock: ManualClock, data_dir: Path
) -> None:
    c = await _open(database_url, clock, data_dir=data_dir)
    try:
        got = await c.say("every night at 2 run backup.sh")
        assert got.kind is ReplyKind.ERROR
        assert "Shell jobs are disabled" in got.text and "KAIROS_SHELL_ALLOW" in got.text
        assert await c.kairos.tasks.query(workspace_id=1) == []
        refused = await c.say("every morning at 7 summarize #general")
        assert refused.kind is ReplyKind.ERROR and "KAIROS_ANTHROPIC_API_KEY" in refused.text
        assert await c.kairos.tasks.query(workspace_id=1) == []
    finally:
        await c.kairos.close()


async def _has(chat: Console_, words: str) -> bool | None:
    return True if words in chat.printed() else None


async def test_daily_digest_is_created_and_posted(chat: Console_) -> None:
    await chat.say("add task renew the certificate due today at 17")
    got = await chat.say("send me a daily digest at 8")
    assert got.kind is ReplyKind.CONFIRMATION, got.text
    task = await chat.kairos.store.get_task(got.task_id or 0)
    assert task.action == {"type": "digest"} and task.next_fire_at is not None
    chat.clock.set(task.next_fire_at + timedelta(seconds=1))
    await eventually(lambda: _has(chat, "Digest —"))
    printed = chat.printed()
    assert "renew the certificate" in printed


async def test_a_morning_query_posts_its_table(
    database_url: str, clock: ManualClock, data_dir: Path, tmp_path: Path
) -> None:
    import sqlite3

    sales = tmp_path / "sales.db"
    with sqlite3.connect(sales) as conn:
        conn.execute("CREATE TABLE sales (region TEXT, amount INTEGER)")
        conn.executemany("INSERT INTO sales VALUES (?, ?)", [("north", 120), ("south", 80)])
    c = await _open(
        database_url, clock, data_dir=data_dir, sql_connections={"sales": f"sqlite:///{sales}"}
    )
    try:
        got = await c.say(
            "run `SELECT region, sum(amount) AS total FROM sales GROUP BY region` every morning"
        )
        assert got.kind is ReplyKind.CONFIRMATION, got.text
        task = await c.kairos.store.get_task(got.task_id or 0)
        assert task.action is not None and task.action["type"] == "sql"
        assert task.next_fire_at is not None
        c.clock.set(task.next_fire_at + timedelta(seconds=1))
        await eventually(lambda: _has(c, "completed in"))
        printed = c.printed()
        assert "2 row(s) from sales" in printed
        assert "region | total" in printed and "north  | 120" in printed
    finally:
        await c.kairos.close()
