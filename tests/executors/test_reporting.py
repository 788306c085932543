"""Results back to chat and to history: posts, owner DMs on failure, records that survive
the worker's timeout, capped excerpts and log files, the digest's sections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from waiting import eventually

from bot.app import Kairos
from bot.settings import Settings
from core.clock import ManualClock
from core.enums import Platform, Role, RunStatus
from core.executors.logs import CappedText, FileLogs, FileLogSink
from core.executors.reporting import ReportingExecutor
from core.jobs import Job
from core.messages import Reply
from core.models import Member, Run
from core.ports import ExecutionResult

NO_RETRY = {"max_attempts": 1}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def send(self, reply: Reply) -> str | None:
        self.sent.append(reply)
        return None


@pytest.fixture
async def app(database_url: str, clock: ManualClock, data_dir: Path) -> AsyncIterator[Kairos]:
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        shell_allow="*",
        run_timeout_seconds=5,
        _env_file=None,
    )  # type: ignore[call-arg]
    kairos = await Kairos.open(settings, clock=clock)
    await kairos.start()
    try:
        yield kairos
    finally:
        await kairos.close()


async def _me(kairos: Kairos) -> Member:
    workspace = await kairos.store.ensure_workspace(Platform.CONSOLE, "local")
    assert workspace.id is not None
    return await kairos.store.ensure_member(workspace.id, "ana", role=Role.OWNER)


async def _ended(kairos: Kairos, task_id: int) -> Run:
    async def final() -> Run | None:
        runs = await kairos.runs.runs_for(task_id)
        return runs[0] if runs and RunStatus(runs[0].status).is_final else None

    return await eventually(final, within=20)


async def _posts(recorder: Recorder, count: int) -> list[Reply]:
    await eventually(lambda: len(recorder.sent) >= count, within=10)
    return recorder.sent


async def test_a_failure_is_posted_in_the_channel_and_to_its_owner(app: Kairos) -> None:
    recorder = Recorder()
    app.add_chat(Platform.CONSOLE, recorder)
    me = await _me(app)
    task = await app.tasks.create(
        {
            "kind": "job",
            "title": "deploy",
            "channel_ref": "#ops",
            "retry_policy": NO_RETRY,
            "action": {"type": "shell", "shell": True, "command": "seq 1 2000; exit 7"},
        },
        actor=me,
    )
    await app.scheduler.run_now(task.id)
    run = await _ended(app, task.id)
    channel, owner = await _posts(recorder, 2)
    assert channel.channel_ref == "#ops" and channel.user_ref is None
    assert channel.text.startswith(f"✗ #{task.id} 'deploy' failed after")
    assert "exit status 7" in channel.text and "2000" in channel.text
    assert "output cut" in channel.text and len(channel.text) < 2500  # long output: not pasted
    assert [b.action for b in channel.buttons] == ["run.log", "task.run"]
    assert channel.buttons[0].value == str(run.id)
    assert owner.user_ref == "ana" and owner.text.startswith("Your job failed.")
    assert run.exit_code == 7 and run.log_excerpt is not None and "2000" in run.log_excerpt


async def test_a_success_goes_to_the_creator_when_there_is_no_channel(app: Kairos) -> None:
    recorder = Recorder()
    app.add_chat(Platform.CONSOLE, recorder)
    me = await _me(app)
    task = await app.tasks.create(
        {"kind": "job", "title": "hello", "action": {"type": "shell", "command": "echo hi"}},
        actor=me,
    )
    await app.scheduler.run_now(task.id)
    (post,) = await _posts(recorder, 1)
    assert post.user_ref == "ana" and "completed in" in post.text and "hi" in post.text


class Sleeper:
    async def execute(self, job: Job) -> ExecutionResult:
        await job.log.write("stdout", "step 1 done\n")
        await asyncio.sleep(60)
        return ExecutionResult(output="never")


async def test_the_record_survives_the_workers_timeout(app: Kairos) -> None:
    logs = FileLogs(app.settings.execution_policy().log_dir())
    app.executors.register("noop", ReportingExecutor(Sleeper(), history=app.history, logs=logs))
    me = await _me(app)
    task = await app.tasks.create(
        {
            "kind": "job",
            "title": "stuck",
            "retry_policy": NO_RETRY,
            "action": {"type": "noop", "timeout_seconds": 0.3},
        },
        actor=me,
    )
    await app.scheduler.run_now(task.id)
    run = await _ended(app, task.id)
    assert run.status == RunStatus.FAILED and run.error is not None and "timeout" in run.error
    assert run.log_excerpt == "step 1 done\n"
    assert run.log_path is not None and run.log_path.endswith(f"run-{run.id}-1.log")


class Broken:
    async def execute(self, job: Job) -> ExecutionResult:
        raise ZeroDivisionError("bug in an executor")


async def test_an_executor_bug_keeps_its_traceback(app: Kairos) -> None:
    app.executors.register("noop", ReportingExecutor(Broken(), history=app.history))
    me = await _me(app)
    task = await app.tasks.create(
        {
            "kind": "job",
            "title": "b",
            "retry_policy": NO_RETRY,
            "action": {"type": "noop"},
        },
        actor=me,
    )
    await app.scheduler.run_now(task.id)
    run = await _ended(app, task.id)
    assert run.error == "ZeroDivisionError: bug in an executor"
    assert run.traceback is not None and "ZeroDivisionError" in run.traceback


async def test_digest_sections(app: Kairos, clock: ManualClock) -> None:
    recorder = Recorder()
    app.add_chat(Platform.CONSOLE, recorder)
    me = await _me(app)
    now = clock.now()
    await app.tasks.create({"title": "late report", "due": now - timedelta(hours=2)}, actor=me)
    await app.tasks.create({"title": "call bank", "due": now + timedelta(hours=3)}, actor=me)
    await app.tasks.create({"title": "plan offsite", "due": now + timedelta(days=2)}, actor=me)
    done = await app.tasks.create({"title": "ship it"}, actor=me)
    await app.tasks.complete(done.id, actor=me)
    await app.tasks.create(
        {
            "kind": "reminder",
            "title": "standup",
            "schedule": {"kind": "cron", "cron": "0 9 * * *", "timezone": "UTC"},
        },
        actor=me,
    )
    digest = await app.tasks.create(
        {"kind": "job", "title": "digest", "action": {"type": "digest"}}, actor=me
    )
    await app.scheduler.run_now(digest.id)
    (post,) = await _posts(recorder, 1)
    text = post.text
    assert text.startswith("Digest — Monday 02 March 2026, 09:00")
    for section, title in (
        ("Overdue (1):", "late report"),
        ("Due today (1):", "call bank"),
        ("Due this week (1):", "plan offsite"),
        ("Done since", "ship it"),
        ("Next up:", "standup"),
    ):
        assert section in text and title in text, text
    assert text.index("Overdue") < text.index("Due today") < text.index("Due this week")


def test_capped_text_keeps_head_and_tail() -> None:
    capped = CappedText(100)
    for i in range(1000):
        capped.add(f"line {i}\n".encode())
    text = capped.text()
    assert text.startswith("line 0\n") and text.endswith("line 999\n")
    assert "bytes left out" in text and len(text) < 200
    assert capped.tail(2) == "line 998\nline 999"


async def test_the_log_file_is_capped(data_dir: Path) -> None:
    sink = FileLogSink(data_dir / "x.log", cap=1000, file_cap=10_000)
    for _ in range(100):
        await sink.write("stdout", "x" * 1000)
    await sink.write("stderr", "late\n")
    await sink.close()
    data = (data_dir / "x.log").read_bytes()
    assert len(data) < 10_100 and data.endswith(b"[log file cap reached; the rest was not kept]\n")
    assert len(sink.excerpt()) < 1100


class Collecting:
    """A sink the worker might give (once it builds jobs with real log sinks)."""

    def __init__(self) -> None:
        self.text = ""
        self.location = "/somewhere/run.log"

    async def write(self, stream: str, text: str) -> None:
        self.text += text


class Talker:
    async def execute(self, job: Job) -> ExecutionResult:
        await job.log.write("stdout", "hello\n")
        return ExecutionResult(output="ok")


async def test_a_sink_given_by_the_worker_is_kept_and_excerpted() -> None:
    import dataclasses

    from .helpers import job as make_job

    given = Collecting()
    j = dataclasses.replace(make_job({"type": "noop"}), log=given)
    reports: list[object] = []

    class Reporter:
        async def report(self, job: Job, report: object) -> None:
            reports.append(report)

    wrapper = ReportingExecutor(Talker(), history=None, reporter=Reporter())
    await wrapper.execute(j)
    await wrapper.drain()
    assert given.text == "hello\n"
    (report,) = reports
    assert report.excerpt == "hello\n" and report.log_location == "/somewhere/run.log"  # type: ignore[attr-defined]


async def test_an_attempt_that_will_be_retried_does_not_page_the_owner(app: Kairos) -> None:
    recorder = Recorder()
    app.add_chat(Platform.CONSOLE, recorder)
    me = await _me(app)
    task = await app.tasks.create(
        {
            "kind": "job",
            "title": "flaky",
            "channel_ref": "#ops",
            "retry_policy": {"max_attempts": 2, "initial_delay_s": 3600, "max_delay_s": 3600},
            "action": {"type": "shell", "command": "false"},
        },
        actor=me,
    )
    await app.scheduler.run_now(task.id)
    (post,) = await _posts(recorder, 1)
    assert post.channel_ref == "#ops" and "(attempt 1; it will be retried)" in post.text

    async def retrying() -> list[Run]:
        return [r for r in await app.runs.runs_for(task.id) if r.status == RunStatus.RETRYING]

    await eventually(retrying)  # attempt 1 is recorded as retrying
    assert not [r for r in recorder.sent if r.user_ref == "ana"]
