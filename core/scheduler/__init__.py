"""The scheduler core: the engine (fires), the worker pool (runs) and their wiring."""

from core.scheduler.engine import SchedulerEngine
from core.scheduler.scheduler import Scheduler
from core.scheduler.workers import PoolSettings, WorkerPool

__all__ = ["PoolSettings", "Scheduler", "SchedulerEngine", "WorkerPool"]
