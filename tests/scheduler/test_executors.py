"""Executors: the registry's choice by action type / kind, and the notify path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.enums import RunTrigger, TaskKind
from core.executors import ExecutorRegistry, NoExecutor, NoopExecutor, NotifyExecutor
from core.jobs import Job, TaskSnapshot
from core.models import Task

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[int | None, int | None]] = []

    async def notify(self, job: Job) -> str | None:
        self.sent.append((job.task_id, job.run_id))
        return "msg-1"


def _task(kind: TaskKind, action: dict[str, str] | None) -> Task:
    return Task(id=7, workspace_id=1, kind=kind, title="water the plants", action=action)


async def test_reminders_go_through_the_notifier() -> None:
    notifier = FakeNotifier()
    registry = ExecutorRegistry({"notify": NotifyExecutor(notifier), "noop": NoopExecutor()})
    task = _task(TaskKind.REMINDER, None)
    job = Job(
        run_id=3,
        task=TaskSnapshot.of(task),
        scheduled_for=AT,
        attempt=1,
        trigger=RunTrigger.SCHEDULE,
        timeout_seconds=10,
    )
    result = await registry.for_task(task).execute(job)
    assert result.output == "notified (msg-1)"
    assert notifier.sent == [(7, 3)]


def test_action_type_wins_over_kind() -> None:
    registry = ExecutorRegistry({"noop": NoopExecutor()})
    assert isinstance(registry.for_task(_task(TaskKind.REMINDER, {"type": "noop"})), NoopExecutor)


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (_task(TaskKind.JOB, {"type": "shell"}), "No executor for action type 'shell'."),
        (_task(TaskKind.JOB, None), "Task 7 (job) has no action to run."),
    ],
)
def test_missing_executor_is_a_clear_error(task: Task, message: str) -> None:
    registry = ExecutorRegistry({"noop": NoopExecutor()})
    with pytest.raises(NoExecutor) as caught:
        registry.for_task(task)
    assert caught.value.message == message
    assert "noop" in caught.value.user_message() or "action" in caught.value.user_message()
