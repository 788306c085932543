"""Executors: what running a task means, chosen by the task's action type."""

from core.executors.basic import NoopExecutor, NotifyExecutor
from core.executors.registry import ExecutorRegistry, NoExecutor, action_type

__all__ = ["ExecutorRegistry", "NoExecutor", "NoopExecutor", "NotifyExecutor", "action_type"]
