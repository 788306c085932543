"""Helpers for executor tests: policies with small limits, and frozen jobs.

Shell jobs run as ``nobody`` when the tests run as root (so that the process
limit binds): their data folder lives under a world-traversable temporary
directory, not under pytest's private ``tmp_path``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.enums import RunTrigger, TaskKind
from core.executors.logs import MemoryLogSink
from core.jobs import Job, TaskSnapshot
from core.policy import ExecutionPolicy, ShellLimits

#: Small limits: every runaway is stopped within a few seconds.
LIMITS = ShellLimits(
    cpu_seconds=5,
    memory_bytes=256 * 2**20,
    file_bytes=8 * 2**20,
    open_files=64,
    processes=48,
    kill_grace_seconds=1.0,
    output_kill_bytes=4 * 2**20,
)


def policy(data_dir: Path, **changes: Any) -> ExecutionPolicy:
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "shell_allow": ("*",),
        "shell_limits": LIMITS,
        "http_allow_private": True,
        "sql_statement_timeout_seconds": 2.0,
    }
    base.update(changes)
    return ExecutionPolicy(**base)


def job(
    action: dict[str, Any],
    *,
    timeout: float = 10.0,
    workspace_id: int = 1,
    task_id: int = 1,
    run_id: int = 1,
    event: dict[str, Any] | None = None,
) -> Job:
    snapshot = TaskSnapshot(
        id=task_id,
        workspace_id=workspace_id,
        kind=TaskKind.JOB,
        title="job",
        description="",
        timezone="UTC",
        channel_ref=None,
        thread_ref=None,
        created_by=None,
        action=action,
    )
    return Job(
        run_id=run_id,
        task=snapshot,
        scheduled_for=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        attempt=1,
        trigger=RunTrigger.MANUAL,
        timeout_seconds=timeout,
        log=MemoryLogSink(64 * 1024),
        event=event,
    )


def excerpt(j: Job) -> str:
    sink = j.log
    assert isinstance(sink, MemoryLogSink)
    return sink.excerpt()
