"""Choosing the executor for a task: by ``action["type"]``, else by task kind."""

from __future__ import annotations

from collections.abc import Mapping

from core.enums import TaskKind
from core.errors import NotConfigured
from core.models import Task
from core.ports import Executor

#: Reminders and tracked tasks have no action: running them means notifying people.
_DEFAULT_BY_KIND = {TaskKind.REMINDER: "notify", TaskKind.TASK: "notify"}


class NoExecutor(NotConfigured):
    """No executor is registered for a task's action type (the run fails, not the engine)."""


def action_type(task: Task) -> str | None:
    """The action type a task runs: ``action["type"]``, or its kind's default."""
    if task.action and isinstance(task.action.get("type"), str):
        return str(task.action["type"])
    return _DEFAULT_BY_KIND.get(TaskKind(task.kind))


class ExecutorRegistry:
    """Maps action types (``"notify"``, ``"noop"``, later ``"http"``, ``"shell"``…) to executors."""

    def __init__(self, executors: Mapping[str, Executor] | None = None) -> None:
        self._executors: dict[str, Executor] = dict(executors or {})

    def register(self, kind: str, executor: Executor) -> None:
        self._executors[kind] = executor

    @property
    def types(self) -> frozenset[str]:
        """The action types that have an executor here."""
        return frozenset(self._executors)

    async def aclose(self) -> None:
        """Let executors finish posting and release what they hold (HTTP client, engines)."""
        for executor in self._executors.values():
            for name in ("drain", "aclose"):
                method = getattr(executor, name, None)
                if method is not None:
                    await method()

    def for_task(self, task: Task) -> Executor:
        """The executor for ``task``, or ``NoExecutor`` saying what is missing."""
        kind = action_type(task)
        if kind is None:
            raise NoExecutor(
                f"Task {task.id} ({task.kind}) has no action to run.",
                hint="Give it an action such as {'type': 'notify'}.",
            )
        executor = self._executors.get(kind)
        if executor is None:
            known = ", ".join(sorted(self._executors)) or "none"
            raise NoExecutor(
                f"No executor for action type {kind!r}.",
                hint=f"Registered action types: {known}.",
            )
        return executor
