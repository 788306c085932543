"""``CommandInbox``: slash commands acknowledged before their work is done survive a crash.

A command whose work outlasts the ack window is written to the inbox (one short
commit) *before* Slack is told "Working on it…", leased by this process
(``claimed_by`` is a worker id as the run pool uses: ``host:pid:token``) and
marked done in the same transaction as its work's effect (``begin`` gives the
``Completion`` that work runs under, ``core.store.completion``), so a process
dying after its work committed leaves nothing to take over. A command whose
work changes nothing is marked done right after it. A sweep, every
``sweep_seconds``:

* renews the leases of the entries this process holds (so only a dead owner's
  lease expires),
* retries marking done the entries whose mark failed (database outage),
* takes over pending entries whose owner is dead — a process on this host that
  no longer runs (``owner_is_dead``, seen at once) or whose lease has expired
  (another host) — does their work and answers through the stored
  ``response_url`` (under a ``Completion`` of its own: if the dead owner's work
  had committed, the entry would have been done). Entries older than a
  ``response_url`` lives are expired: nobody could be answered, and the person
  has long been told nothing came.

A command that finishes within the ack window is not written by the edge: the
ack itself says it is done. Its effect's transaction (if it has one) still
writes its entry, already done: one more statement, no extra commit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from contextlib import suppress
from datetime import timedelta
from typing import Any

from core.models_inbox import InboxCommand
from core.ports import Clock
from core.scheduler.workers import new_worker_id, owner_is_dead
from core.store.completion import Completion
from core.store.inbox import EXPIRED, InboxStore

log = logging.getLogger(__name__)

PLATFORM = "slack"
#: Slack accepts answers on a ``response_url`` for 30 minutes.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
#: The inbox write must leave time to ack within Slack's 3 s.
WRITE_BUDGET_SECONDS = 0.6

Process = Callable[[InboxCommand], Coroutine[Any, Any, None]]


def dedupe_key(body: Mapping[str, Any]) -> str:
    """Slack's ``trigger_id`` (one per invocation), else a digest of its ``response_url``."""
    trigger = str(body.get("trigger_id") or "")
    if trigger:
        return trigger[:128]
    return hashlib.sha256(str(body.get("response_url", "")).encode()).hexdigest()


class CommandInbox:
    """Records, leases, finishes and recovers acknowledged-but-unfinished commands."""

    def __init__(
        self,
        *,
        store: InboxStore,
        clock: Clock,
        lease_seconds: float = 60.0,
        sweep_seconds: float = 2.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.owner = new_worker_id()
        self.lease = timedelta(seconds=lease_seconds)
        self.sweep_seconds = sweep_seconds
        self._held: set[str] = set()
        self._unfinished: set[str] = set()
        self._loop: asyncio.Task[None] | None = None
        self._recovering: set[asyncio.Task[None]] = set()

    def begin(self, body: Mapping[str, Any]) -> Completion:
        """The entry of a received command, held by this process, to do its work under
        (``core.store.completion.doing``) and to ``record`` if the work is slow."""
        now = self.clock.now()
        row = {
            "platform": PLATFORM,
            "dedupe_key": dedupe_key(body),
            "workspace": str(body.get("team_id", ""))[:64],
            "channel": str(body.get("channel_id") or "")[:64],
            "user": str(body.get("user_id", ""))[:64],
            "user_name": str(body.get("user_name") or "")[:128],
            "text": str(body.get("text", "")),
            "response_url": str(body.get("response_url", "")),
            "received_at": now,
            "status": "pending",
            "claimed_by": self.owner,
            "lease_until": now + self.lease,
            "attempts": 1,
        }
        return Completion(engine=self.store.db.engine, row=row, now=self.clock.now)

    def taken(self, entry: InboxCommand) -> Completion:
        """The entry of a command this process took over, to do its work under."""
        row = entry.model_dump(exclude={"id"}) | {"claimed_by": self.owner}
        return Completion(engine=self.store.db.engine, row=row, now=self.clock.now)

    async def record(self, completion: Completion) -> str | None:
        """Store the command before it is acked; its dedupe key, or ``None`` if it failed."""
        key: str = completion.row["dedupe_key"]
        if completion.done:  # its work committed already, and wrote the entry as done
            return key
        self._held.add(key)  # renewed and finished even if the write's fate is unknown
        try:
            await asyncio.wait_for(self.store.accept(completion.row), WRITE_BUDGET_SECONDS)
        except Exception as exc:  # any failure means the same: not durably received
            log.warning("a slash command could not be written to the inbox: %s", _reason(exc))
            return None
        return key

    async def finish(self, key: str, *, status: str = "done", again: bool = False) -> None:
        """Mark the command's work done (retried by the sweep if the database is away:
        ``again``, logged once, when it first failed)."""
        self._held.discard(key)
        try:
            await self.store.finish(
                platform=PLATFORM,
                dedupe_key=key,
                owner=self.owner,
                now=self.clock.now(),
                status=status,
            )
        except Exception as exc:  # retried by the sweep
            if not again:
                log.warning("marking a slash command done failed (%s); will retry", _reason(exc))
            self._unfinished.add(key)
        else:
            self._unfinished.discard(key)

    def forget(self, key: str) -> None:
        """Stop holding ``key`` without marking it (its write never happened)."""
        self._held.discard(key)

    # --- the sweep -----------------------------------------------------------------

    def start(self, process: Process) -> None:
        if self._loop is None:
            self._loop = asyncio.create_task(self._run(process), name="kairos-slack-inbox")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop, *self._recovering) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._loop = None

    async def _run(self, process: Process) -> None:
        failing = False
        while True:
            try:
                await self.sweep(process)
            except Exception as exc:  # the database is away: say so once, keep sweeping
                if not failing:
                    log.warning("slash command inbox unavailable (%s); retrying", _reason(exc))
                failing = True
            else:
                if failing:
                    log.info("slash command inbox available again")
                failing = False
            await asyncio.sleep(self.sweep_seconds)

    async def sweep(self, process: Process) -> int:
        """One pass (see the module docstring); how many entries it took over."""
        now = self.clock.now()
        if self._held:
            await self.store.renew(self.owner, until=now + self.lease)
        for key in list(self._unfinished):
            await self.finish(key, again=True)
        taken = 0
        host = self.owner.partition(":")[0] + ":"
        for entry in await self.store.others_pending(self.owner, now=now, host_prefix=host):
            if not (owner_is_dead(entry.claimed_by) or entry.lease_until < now):
                continue
            assert entry.id is not None
            if not await self.store.take(
                entry.id, previous=entry.claimed_by, owner=self.owner, until=now + self.lease
            ):
                continue  # another replica took it first
            if now - entry.received_at > RESPONSE_URL_LIFETIME:
                log.warning("slash command %s expired before it could be recovered", entry.id)
                await self.finish(entry.dedupe_key, status=EXPIRED)
                continue
            log.info("recovering slash command %s (owner %s is gone)", entry.id, entry.claimed_by)
            self._held.add(entry.dedupe_key)
            task = asyncio.create_task(process(entry), name=f"kairos-inbox-{entry.id}")
            self._recovering.add(task)
            task.add_done_callback(self._recovered)
            taken += 1
        return taken

    def _recovered(self, task: asyncio.Task[None]) -> None:
        self._recovering.discard(task)
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            log.warning("a recovered slash command failed: %s", _reason(exc))


def _reason(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return lines[0][:200] if lines else type(exc).__name__
