"""The built-in executors: reminders through a ``Notifier``, and a no-op."""

from __future__ import annotations

from core.jobs import Job
from core.ports import ExecutionResult, Notifier


class NotifyExecutor:
    """Delivers reminders and tasks through the chat layer's ``Notifier``."""

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    async def execute(self, job: Job) -> ExecutionResult:
        ref = await self._notifier.notify(job)
        return ExecutionResult(output=f"notified ({ref})" if ref else "notified")


class NoopExecutor:
    """Does nothing and succeeds: for benchmarks, tests and placeholder jobs."""

    async def execute(self, job: Job) -> ExecutionResult:
        return ExecutionResult(output="")
