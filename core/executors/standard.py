"""The executors Kairos ships, one line each (the composition root calls ``standard_registry``).

Adding an executor: write ``core/executors/<name>.py`` (a class with
``action_model`` and ``execute``), add its model to ``core.actions`` and one
line here.
"""

from __future__ import annotations

from core.executors.basic import NoopExecutor, NotifyExecutor
from core.executors.digest import DigestExecutor
from core.executors.http import HttpExecutor
from core.executors.registry import ExecutorRegistry
from core.executors.reporting import ReportingExecutor
from core.executors.shell import ShellExecutor
from core.executors.sql import SqlExecutor
from core.policy import ExecutionPolicy
from core.ports import Clock, Executor, LogSinks, Notifier, RunReporter
from core.store import SqlStore
from core.store.history import RunHistory


def standard_registry(
    *,
    notifier: Notifier,
    policy: ExecutionPolicy,
    store: SqlStore,
    history: RunHistory,
    clock: Clock,
    logs: LogSinks | None = None,
    reporter: RunReporter | None = None,
) -> ExecutorRegistry:
    """Every built-in executor; actions (not reminders) are recorded and reported."""

    def reported(executor: Executor) -> Executor:
        return ReportingExecutor(
            executor,
            history=history,
            logs=logs,
            reporter=reporter,
            excerpt_cap=policy.output_cap_bytes,
        )

    return ExecutorRegistry(
        {
            "notify": NotifyExecutor(notifier),
            "noop": NoopExecutor(),
            "shell": reported(ShellExecutor(policy)),
            "http": reported(HttpExecutor(policy)),
            "sql": reported(SqlExecutor(policy)),
            "digest": reported(DigestExecutor(store=store, history=history, clock=clock)),
        }
    )
