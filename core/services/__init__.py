"""Domain services: the operations chat surfaces call (validation, audit, notifications)."""

from core.services.tasks import TaskService
from core.store.query import TaskQuery

__all__ = ["TaskQuery", "TaskService"]
