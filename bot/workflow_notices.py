"""Telling a workflow's owner, once, how a run of it ended (with the failing step).

The release marks a pass as ended in the transaction that records its last run
(``workflow_runs.finished_at``); the run store then wakes this announcer. It
claims each ending (``notified_at``, compare-and-set: one replica tells) and
hands it to the notification service, which keeps it once per ending and
delivers it by the owner's preferences (where, quiet hours, batching, mute). At
start it also hands over endings that happened while no process was there.
"""

from __future__ import annotations

import asyncio
import logging

from core.services.notices import NoticeService
from core.workflows.service import WorkflowService

log = logging.getLogger(__name__)


class WorkflowAnnouncer:
    def __init__(self, *, workflows: WorkflowService, notices: NoticeService) -> None:
        self._workflows = workflows
        self._notices = notices
        self._jobs: set[asyncio.Task[int]] = set()

    def wake(self, _pass_ids: list[int]) -> None:
        """Called by the run store after passes ended (from the recorder's task)."""
        job = asyncio.create_task(self.announce(), name="kairos-workflow-notices")
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def announce(self) -> int:
        """Hand over every unannounced ending; returns how many notices were planned."""
        told = 0
        try:
            for ending in await self._workflows.endings():
                if ending.owner is None or ending.task_id is None:
                    continue
                told += await self._notices.workflow_finished(
                    ending.task_id,
                    ok=not ending.failed,
                    summary=ending.summary,
                    people=(ending.owner.platform_user_id,),
                    at=ending.run.finished_at,
                    workflow=ending.workflow.name,
                )
        except Exception:  # never let a notice break the recorder; logged for the operator
            log.exception("workflows: could not tell an owner how a workflow ended")
        return told

    async def drain(self) -> None:
        if self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)
