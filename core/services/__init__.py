"""Domain services: the operations chat surfaces call (validation, audit, notifications)."""

from core.services.tasks import TaskService

__all__ = ["TaskService"]
