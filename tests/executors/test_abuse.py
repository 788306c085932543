"""Runaway jobs fail their own runs inside their limits while unrelated reminders keep
firing on time (real clock, real engine and workers, real children, server and queries).

Prints the reminders' lateness; asserts a generous bound (< 2 s) since the machine is shared.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from waiting import eventually

from bot.app import Kairos
from bot.settings import Settings
from core.enums import Platform, Role, RunStatus
from core.messages import Reply
from core.models import Run

SLOW_SQL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT count(*) FROM n WHERE i < 1000000000000"
)

FORK_BOMB = "f(){ f|f; }; f"
NO_RETRY = {"max_attempts": 1}


class Recorder:
    """The console's ``ChatAdapter``: notes when each reminder arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.posts: list[str] = []

    async def send(self, reply: Reply) -> str | None:
        if reply.text.startswith("Reminder: "):
            self.arrived[reply.text.removeprefix("Reminder: ")] = time.time()
        else:
            self.posts.append(reply.text)
        return None


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    released = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await released.wait()
        return web.Response(text="too late")

    app = web.Application()
    app.router.add_get("/", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        released.set()
        await runner.cleanup()


async def test_runaway_jobs_fail_alone_while_reminders_fire_on_time(
    sqlite_database: object, tmp_path: Path, data_dir: Path, silent_server: str
) -> None:
    slow_db = tmp_path / "slow.db"
    sqlite3.connect(slow_db).close()
    closed = _closed_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'k.db'}",
        data_dir=data_dir,
        workers=16,
        shell_allow="*",
        shell_cpu_seconds=10,
        shell_memory_mb=256,
        shell_processes=48,
        shell_kill_grace_seconds=1,
        http_allow_private=True,
        http_timeout_seconds=2,
        sql_connections={"slow": f"sqlite:///{slow_db}"},
        sql_statement_timeout_seconds=2,
        _env_file=None,
    )  # type: ignore[call-arg]
    kairos = await Kairos.open(settings)
    recorder = Recorder()
    kairos.add_chat(Platform.CONSOLE, recorder)
    await kairos.start()
    try:
        workspace = await kairos.store.ensure_workspace(Platform.CONSOLE, "local")
        assert workspace.id is not None
        me = await kairos.store.ensure_member(workspace.id, "me", role=Role.OWNER)

        async def job(title: str, action: dict[str, object]) -> int:
            action = {**action, "timeout_seconds": 4}
            task = await kairos.tasks.create(
                {
                    "kind": "job",
                    "title": title,
                    "action": action,
                    "retry_policy": {"max_attempts": 1},
                },
                actor=me,
            )
            return task.id

        # Reminders every 250 ms over the whole abuse window.
        start = datetime.now(UTC) + timedelta(seconds=1)
        due: dict[str, datetime] = {}
        for i in range(44):
            at = start + timedelta(milliseconds=250 * i)
            title = f"r{i}"
            reminder = await kairos.tasks.create(
                {
                    "kind": "reminder",
                    "title": title,
                    "schedule": {"kind": "once", "at": at.isoformat(), "timezone": "UTC"},
                    "assignees": ["me"],
                },
                actor=me,
            )
            assert reminder.next_fire_at is not None  # whole seconds: the engine's own truth
            due[title] = reminder.next_fire_at

        sh = {"type": "shell", "shell": True}
        first_wave = {
            await job("loop", {**sh, "command": "while :; do :; done"}): "timed out",
            await job("spew", {"type": "shell", "command": "yes kairos"}): "output exceeded",
            await job("hog", {**sh, "command": "python3 -c 'b = bytearray(2 * 1024**3)'"}): (
                "MemoryError"
            ),
            await job("slow url", {"type": "http", "url": silent_server}): "no response within",
            await job("dead url", {"type": "http", "url": f"http://127.0.0.1:{closed}/"}): (
                "cannot reach"
            ),
            await job("slow query", {"type": "sql", "query": SLOW_SQL}): "statement timeout",
        }
        await eventually(lambda: datetime.now(UTC) >= start)
        for task_id in first_wave:
            await kairos.scheduler.run_now(task_id)
        await _all_final(kairos, first_wave)
        # The fork bomb goes second: all shell jobs share the job user's process limit.
        bomb = {
            await job("fork bomb", {"type": "shell", "command": "bash -c 'f(){ f|f; }; f'"}): ""
        }
        await kairos.scheduler.run_now(next(iter(bomb)))
        await _all_final(kairos, bomb)
        abuse_ended = datetime.now(UTC)
        await eventually(lambda: len(recorder.arrived) == len(due), within=30)

        for task_id, words in {**first_wave, **bomb}.items():
            run = (await kairos.runs.runs_for(task_id))[0]
            assert run.status == RunStatus.FAILED, (task_id, run.status, run.error)
            assert run.error and words in run.error, (task_id, run.error)
            assert run.duration_ms is not None and run.duration_ms < 6000, (
                task_id,
                run.duration_ms,
            )

        late = [recorder.arrived[t] - due[t].timestamp() for t in due if due[t] <= abuse_ended]
        print(
            f"\nreminders during the abuse: {len(late)}, lateness p50 "
            f"{statistics.median(late) * 1000:.0f} ms, max {max(late) * 1000:.0f} ms"
        )
        assert len(late) >= 8
        assert max(late) < 2.0
        assert any("failed after" in post for post in recorder.posts)  # results were posted
    finally:
        await kairos.close()


async def _all_final(kairos: Kairos, tasks: dict[int, str]) -> None:
    async def done() -> bool:
        runs: list[Run] = []
        for task_id in tasks:
            runs += await kairos.runs.runs_for(task_id)
        return len(runs) == len(tasks) and all(RunStatus(r.status).is_final for r in runs)

    await eventually(done, within=30)  # the abusive runs end within their limits


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
