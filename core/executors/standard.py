"""The executors Kairos ships, one line each (the composition root calls ``standard_registry``).

Adding an executor: write ``core/executors/<name>.py`` (a class with
``action_model`` and ``execute``), add its model to ``core.actions`` and one
line here.
"""

from __future__ import annotations

from core.executors.ai import AiPromptExecutor, SummarizedDigestExecutor
from core.executors.basic import NoopExecutor, NotifyExecutor
from core.executors.digest import DigestExecutor
from core.executors.http import HttpExecutor
from core.executors.registry import ExecutorRegistry
from core.executors.reporting import ReportingExecutor
from core.executors.shell import ShellExecutor
from core.executors.sql import SqlExecutor
from core.policy import ExecutionPolicy
from core.ports import (
    ChannelHistory,
    Clock,
    Executor,
    LanguageModel,
    LogSinks,
    Notifier,
    RunReporter,
)
from core.store import SqlStore
from core.store.history import RunHistory
from prompts import load as load_prompt


def standard_registry(
    *,
    notifier: Notifier,
    policy: ExecutionPolicy,
    store: SqlStore,
    history: RunHistory,
    clock: Clock,
    logs: LogSinks | None = None,
    reporter: RunReporter | None = None,
    llm: LanguageModel | None = None,
    channels: ChannelHistory | None = None,
    digest_summaries: bool = False,
) -> ExecutorRegistry:
    """Every built-in executor; actions (not reminders) are recorded and reported.

    ``ai_prompt`` is registered only with an ``llm`` (Claude configured).
    """

    def reported(executor: Executor) -> Executor:
        return ReportingExecutor(
            executor,
            history=history,
            logs=logs,
            reporter=reporter,
            excerpt_cap=policy.output_cap_bytes,
        )

    digest = DigestExecutor(store=store, history=history, clock=clock)
    executors: dict[str, Executor] = {
        "notify": NotifyExecutor(notifier),
        "noop": NoopExecutor(),
        "shell": reported(ShellExecutor(policy)),
        "http": reported(HttpExecutor(policy)),
        "sql": reported(SqlExecutor(policy)),
        "digest": reported(digest),
    }
    if llm is not None:
        system = load_prompt("ai_job").render()
        executors["ai_prompt"] = reported(
            AiPromptExecutor(model=llm, system=system, digests=digest, channels=channels)
        )
        if digest_summaries:
            summarized = SummarizedDigestExecutor(digest=digest, model=llm, system=system)
            executors["digest"] = reported(summarized)
    return ExecutorRegistry(executors)
