"""Telling a workflow's owner, once, how a run of it ended (with the failing step).

The release marks a pass as ended in the transaction that records its last run
(``workflow_runs.finished_at``); the run store then wakes this announcer. It
claims each ending (``notified_at``, compare-and-set: one replica tells) and
sends the owner a direct message. At start it also tells endings that happened
while no process was there to announce them.
"""

from __future__ import annotations

import asyncio
import logging

from bot.notify import ChatNotifier
from core.messages import Reply, ReplyKind
from core.workflows.service import WorkflowService

log = logging.getLogger(__name__)


class WorkflowAnnouncer:
    def __init__(self, *, workflows: WorkflowService, notifier: ChatNotifier) -> None:
        self._workflows = workflows
        self._notifier = notifier
        self._jobs: set[asyncio.Task[int]] = set()

    def wake(self, _pass_ids: list[int]) -> None:
        """Called by the run store after passes ended (from the recorder's task)."""
        job = asyncio.create_task(self.announce(), name="kairos-workflow-notices")
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def announce(self) -> int:
        """Tell the owners of every unannounced ending; returns how many were told."""
        told = 0
        try:
            for ending in await self._workflows.endings():
                if ending.owner is None:
                    continue
                reply = Reply(
                    text=ending.text,
                    kind=ReplyKind.TEXT,
                    user_ref=ending.owner.platform_user_id,
                    channel_ref=None,
                )
                await self._notifier.post(ending.workflow.workspace_id, reply)
                told += 1
        except Exception:  # never let a notice break the recorder; logged for the operator
            log.exception("workflows: could not tell an owner how a workflow ended")
        return told

    async def drain(self) -> None:
        if self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)
