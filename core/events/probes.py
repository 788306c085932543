"""Condition probes: run a probe on an interval, fire an event on the edge false → true.

A condition is an ``event_sources`` row (kind ``condition``) whose ``config`` holds
the probe action (validated like a task's), the interval and the ``Check``; its
``state`` (``{"true": …, "rises": n, "checked_at": …}``) is persisted, so a restart
while the condition stays true does not fire again. The event of the n-th rise
has the dedupe key ``rise:n``: two replicas probing the same condition, or a
process that died between recording the event and saving the state, record it
once. Tasks subscribe with ``condition:<name>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.enums import Role, RunTrigger, TaskKind
from core.errors import Conflict, KairosError, NotConfigured, NotFound, PermissionDenied
from core.events.conditions import Check, ProbeResult
from core.events.delivery import EventBus
from core.events.model import EventIn, SourceKind, source_name
from core.executors.registry import ExecutorRegistry
from core.jobs import Job, TaskSnapshot
from core.models import Member, Task
from core.models_events import EventSource
from core.ports import Clock
from core.scheduler.outage import Outage
from core.store.events import EventStore

log = logging.getLogger(__name__)

#: The fastest a condition may be probed.
MIN_EVERY_SECONDS = 5
PROBE_TIMEOUT_SECONDS = 30.0
_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
_TEXT_CAP = 64 * 1024


class _Capture:
    """A log sink that keeps what a probe printed on stdout (capped)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    async def write(self, stream: str, text: str) -> None:
        if stream == "stdout" and self.size < _TEXT_CAP:
            self.parts.append(text[: _TEXT_CAP - self.size])
            self.size += len(text)


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition as configured: its probe, interval and check."""

    name: str
    probe: dict[str, Any]
    every_seconds: int
    check: Check
    workspace_id: int

    @classmethod
    def of(cls, source: EventSource) -> Condition:
        config = source.config or {}
        return cls(
            name=source.name,
            probe=dict(config["probe"]),
            every_seconds=int(config["every_seconds"]),
            check=Check.model_validate(config["check"]),
            workspace_id=source.workspace_id or 0,
        )


async def run_probe(
    executors: ExecutorRegistry, condition: Condition, now: datetime
) -> ProbeResult:
    """Run the probe once through the executors; failures are results, not exceptions."""
    capture = _Capture()
    snapshot = TaskSnapshot(
        id=0,
        workspace_id=condition.workspace_id,
        kind=TaskKind.JOB,
        title=f"condition {condition.name}",
        description="",
        timezone="UTC",
        channel_ref=None,
        thread_ref=None,
        created_by=None,
        action=condition.probe,
    )
    job = Job(
        run_id=0,
        task=snapshot,
        scheduled_for=now,
        attempt=1,
        trigger=RunTrigger.SCHEDULE,
        timeout_seconds=PROBE_TIMEOUT_SECONDS,
        log=capture,
    )
    try:
        executor = executors.for_task(
            Task(workspace_id=condition.workspace_id, title=snapshot.title, action=condition.probe)
        )
        # A probe is not a run: nothing to record in run history or report to chat.
        executor = getattr(executor, "inner", executor)
        result = await asyncio.wait_for(executor.execute(job), PROBE_TIMEOUT_SECONDS)
    except KairosError as exc:
        status = getattr(exc, "exit_code", None) or getattr(exc, "http_status", None)
        return ProbeResult(status, "".join(capture.parts), None, exc.user_message())
    except Exception as exc:  # a probe that cannot run is false, and logged by the caller
        return ProbeResult(None, "".join(capture.parts), None, f"{type(exc).__name__}: {exc}")
    status = result.exit_code if result.exit_code is not None else result.http_status
    return ProbeResult(0 if status is None else status, "".join(capture.parts), result.result)


class ConditionProbes:
    """Creates conditions and probes every configured one on its interval."""

    def __init__(
        self,
        *,
        store: EventStore,
        bus: EventBus,
        clock: Clock,
        executors: ExecutorRegistry | None,
        refresh_seconds: float = 5.0,
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._executors = executors
        self._refresh = refresh_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._due: dict[str, float] = {}
        self.checks = 0
        self._outage = Outage("events-conditions", logger=log)

    async def create(
        self,
        name: str,
        *,
        probe: dict[str, Any],
        check: Check,
        every_seconds: int,
        actor: Member | None = None,
    ) -> EventSource:
        """Store a condition (admins only: its probe runs as Kairos); it starts false."""
        if actor is not None and Role(actor.role) not in _MANAGERS:
            raise PermissionDenied("Only a workspace owner or admin can add a condition.")
        if self._executors is None or str(probe.get("type")) not in self._executors.types:
            raise NotFound(
                f"A {probe.get('type')!r} probe cannot run here: no such executor.",
                hint=f"Use one of: {', '.join(sorted(self._executors.types)) or 'none'}."
                if self._executors
                else None,
            )
        every = max(MIN_EVERY_SECONDS, int(every_seconds))
        now = self._clock.now()
        clean = source_name(name)
        # Never confirm a condition whose probe cannot run here (a command the policy
        # refuses, a missing connection): try it once now and say why not.
        tried = await run_probe(
            self._executors,
            Condition(clean, probe, every, check, actor.workspace_id if actor else 0),
            now,
        )
        if tried.status is None:
            raise NotConfigured(
                f"The probe of condition '{clean}' cannot run here: {tried.error}",
                hint="Fix the probe (or the execution settings) and try again.",
            )
        added = await self._store.add_source(
            EventSource(
                kind=SourceKind.CONDITION.value,
                name=clean,
                workspace_id=actor.workspace_id if actor else None,
                created_by=actor.id if actor else None,
                config={"probe": probe, "every_seconds": every, "check": check.model_dump()},
                state={"true": False, "rises": 0},
                created_at=now,
                updated_at=now,
            )
        )
        if added is None:
            raise Conflict(f"A condition called {name!r} already exists.")
        return added

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="kairos-conditions")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _loop(self) -> None:
        while not self._stop.is_set():
            wait = self._refresh
            try:
                for source in await self._store.sources(SourceKind.CONDITION):
                    due = self._due.get(source.name, 0.0)
                    now = time.monotonic()
                    if now >= due:
                        condition = Condition.of(source)
                        self._due[source.name] = now + condition.every_seconds
                        await self.check(condition, source.state or {})
                    wait = min(wait, max(0.05, self._due[source.name] - time.monotonic()))
            except Exception as exc:  # the database may be away: one line, then back-off
                wait = self._outage.failed(exc, "checking conditions")
            else:
                self._outage.ok()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)

    async def check(self, condition: Condition, state: dict[str, Any]) -> bool:
        """Probe once; record an event if the condition just became true. Returns its truth."""
        assert self._executors is not None
        now = self._clock.now()
        result = await run_probe(self._executors, condition, now)
        self.checks += 1
        if result.error and result.status is None:
            log.warning("events: condition %s: probe failed: %s", condition.name, result.error)
        truth = condition.check.holds(result)
        was = bool(state.get("true"))
        rises = int(state.get("rises", 0))
        if truth and not was:
            rises += 1
            payload = {
                "condition": condition.name,
                "status": result.status,
                "output": result.text[:2000],
                "checked_at": now.isoformat(),
            }
            await self._bus.record(
                EventIn(SourceKind.CONDITION, condition.name, f"rise:{rises}", payload, now)
            )
        if truth != was or rises != int(state.get("rises", 0)):
            await self._store.update_source(
                SourceKind.CONDITION,
                condition.name,
                now=now,
                state={"true": truth, "rises": rises, "checked_at": now.isoformat()},
            )
        return truth
