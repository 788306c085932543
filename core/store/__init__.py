"""``SqlStore``: the only code that opens database sessions.

It is composed of one sub-store per noun (``WorkspaceStore``, ``TaskStore``,
``AuditStore``, ``ChatStateStore``), all sharing one ``Database`` and the ambient transaction of
``StoreBase.transaction()``. To extend it, add a ``StoreBase`` subclass in its own
module and list it among ``SqlStore``'s bases.
"""

from __future__ import annotations

from core.store.audit import AuditStore
from core.store.base import StoreBase
from core.store.chat import ChatStateStore, Remembered
from core.store.llm import LlmUsageStore
from core.store.operations import OperationsStore
from core.store.query import TaskQuery
from core.store.search import SearchStore
from core.store.tasks import TaskStore, task_not_found
from core.store.workflows import WorkflowStore
from core.store.workspaces import WorkspaceStore


class SqlStore(
    WorkspaceStore,
    TaskStore,
    AuditStore,
    ChatStateStore,
    OperationsStore,
    WorkflowStore,
    SearchStore,
    LlmUsageStore,
):
    """The SQL store over SQLite or PostgreSQL (see ``core.db.Database``)."""


__all__ = [
    "AuditStore",
    "ChatStateStore",
    "LlmUsageStore",
    "OperationsStore",
    "Remembered",
    "SearchStore",
    "SqlStore",
    "StoreBase",
    "TaskQuery",
    "TaskStore",
    "WorkflowStore",
    "WorkspaceStore",
    "task_not_found",
]
