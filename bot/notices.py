"""Notifications out: the loop that plans notices and posts what is due, once.

``NoticeDispatcher`` runs beside the scheduler in every Kairos process. It
wakes when the next notice is due, when told (``wake``), and every
``poll_seconds`` of real time to read the changes other processes committed.
Posting goes through the chat adapter of the workspace's platform (the same
adapters reminders use); a post that fails is tried again later. A round that
fails (the database is away) is retried with back-off, logged once when it
starts failing and once when it works again (``core.scheduler.outage``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from bot.notify import ChatNotifier
from core.jobs import Job
from core.messages import Reply
from core.ports import Clock, Metrics, RunReport, RunReporter
from core.scheduler.outage import Outage, Probe
from core.services.insight import InsightService
from core.services.notices import NoticeService, Outgoing

log = logging.getLogger(__name__)

#: Sleep at most this long (clock time) between two looks.
RESCAN_SECONDS = 30.0
#: Tasks at risk are looked for at most this often (clock time).
RISK_EVERY = timedelta(minutes=15)


class NoticeDispatcher:
    """Plans and delivers notifications in the background."""

    def __init__(
        self,
        *,
        service: NoticeService,
        notifier: ChatNotifier,
        clock: Clock,
        poll_seconds: float = 0.25,
        insight: InsightService | None = None,
        metrics: Metrics | None = None,
        probe: Probe | None = None,
    ) -> None:
        self.service = service
        self._notifier = notifier
        self._clock = clock
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._insight = insight
        self._risks_checked: datetime | None = None
        #: A failed round: back-off, one log line when it starts and one when it ends.
        self._outage = Outage(
            "notifications", logger=log, metrics=metrics, probe=probe, on_back=self.wake
        )

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="kairos-notices")

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def once(self) -> int:
        """Plan, then post everything due now; returns how many messages were posted."""
        await self.service.plan()
        now = self._clock.now()
        if self._insight is not None and (
            self._risks_checked is None or now - self._risks_checked >= RISK_EVERY
        ):
            self._risks_checked = now
            await self.service.plan_risks(self._insight)
        posted = 0
        for outgoing in await self.service.deliverable():
            posted += await self._post(outgoing)
        return posted

    async def _post(self, outgoing: Outgoing) -> int:
        adapter = await self._notifier.adapter_for(outgoing.workspace_id)
        if adapter is None:
            await self.service.failed_to_post(outgoing, "no chat adapter for this workspace")
            return 0
        try:
            reply = Reply(
                text=await self._notifier.batch_in_language(outgoing),
                task_id=outgoing.task_id,
                channel_ref=outgoing.channel_ref,
                thread_ref=outgoing.thread_ref,
                user_ref=None if outgoing.channel_ref else outgoing.person,
            )
            await adapter.send(await self._notifier.in_language(reply))
        except Exception as exc:  # any platform error: the notice waits and is tried again
            log.warning("notice to %s not posted: %s", outgoing.person, type(exc).__name__)
            await self.service.failed_to_post(outgoing, type(exc).__name__)
            return 0
        return 1

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                await self.once()
                upcoming = await self.service.next_due()
            except Exception as exc:  # logged once per outage (with a traceback if a bug)
                delay = self._outage.failed(exc, "planning notifications")
                with contextlib.suppress(TimeoutError):  # woken early when the database is back
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            self._outage.ok()
            wait = RESCAN_SECONDS
            if upcoming is not None:
                wait = min(wait, max(0.0, (upcoming - self._clock.now()).total_seconds()))
            await self._pause(wait)

    async def _pause(self, seconds: float) -> None:
        """Until ``seconds`` of clock time pass, a wake-up, or the real-time poll."""
        waiters = [
            asyncio.create_task(self._clock.sleep(seconds), name="kairos-notices-clock"),
            asyncio.create_task(self._wake.wait(), name="kairos-notices-wake"),
            asyncio.create_task(asyncio.sleep(self._poll), name="kairos-notices-poll"),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


class Reporters:
    """Several ``RunReporter``s as one: the result post, then the notices it causes."""

    def __init__(self, *reporters: RunReporter) -> None:
        self._reporters = reporters

    async def report(self, job: Job, report: RunReport) -> None:
        for reporter in self._reporters:
            try:
                await reporter.report(job, report)
            except Exception:  # one failing reporter must not silence the others
                log.exception("run %s: a reporter failed", report.run_id)
