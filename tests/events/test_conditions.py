"""Conditions: the checks (pure), and a real shell probe crossing its threshold once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from executors.conftest import data_dir  # noqa: F401  (a fixture: shell probes run as nobody)
from executors.helpers import policy
from scheduler.harness import wait_for

from core.clock import ManualClock
from core.db import Database
from core.events.conditions import Check, ProbeResult
from core.events.delivery import EventBus
from core.events.model import SourceKind
from core.events.probes import Condition, ConditionProbes
from core.executors import ExecutorRegistry
from core.executors.shell import ShellExecutor
from core.store.events import EventStore

from .harness import subscriber, with_events


def test_checks() -> None:
    out = ProbeResult(0, "Use% 93%\n")
    assert Check(on="number", op=">", value=90).holds(ProbeResult(0, "93\n"))
    assert not Check(on="number", op=">", value=90).holds(ProbeResult(0, "89.5"))
    assert Check(on="regex", pattern=r"9\d%").holds(out)
    assert Check(on="status", op="!=", value=0).holds(ProbeResult(2, ""))
    assert not Check(on="status").holds(ProbeResult(None, "", error="could not run"))
    body = '{"disk": {"used": [10, 95]}, "state": "degraded"}'
    assert Check(on="json", path="disk.used.1", op=">=", value=95).holds(ProbeResult(200, body))
    assert Check(on="json", path="$.state", value="degraded").holds(ProbeResult(200, body))
    assert not Check(on="json", path="disk.missing", op=">", value=1).holds(ProbeResult(200, body))
    assert Check(on="number", op="<", value=5).holds(
        ProbeResult(0, "", {"rows": [[3]], "columns": ["n"]})
    )
    with pytest.raises(ValueError):
        Check(on="regex")
    with pytest.raises(ValueError):
        Check(on="number", op=">")


async def test_a_probe_crossing_its_threshold_fires_once_and_a_restart_does_not_refire(
    database: Database,
    clock: ManualClock,
    data_dir: Path,  # noqa: F811
) -> None:
    usage = data_dir / "usage"
    usage.write_text("50\n")
    os.chmod(usage, 0o644)
    executors = ExecutorRegistry({"shell": ShellExecutor(policy(data_dir / "data"))})
    task = await subscriber(database, "condition:disk-full")
    store = EventStore(database)

    async with with_events(database, clock) as ev:
        probes = ConditionProbes(store=store, bus=ev.layer.bus, clock=clock, executors=executors)
        await probes.create(
            "disk-full",
            probe={"type": "shell", "command": f"cat {usage}"},
            check=Check(on="number", op=">", value=90),
            every_seconds=60,
        )

        async def check() -> bool:
            source = await store.source(SourceKind.CONDITION, "disk-full")
            assert source is not None
            return await probes.check(Condition.of(source), source.state or {})

        assert await check() is False
        usage.write_text("93\n")
        assert await check() is True
        assert await check() is True  # still true: no second event
        await wait_for(lambda: len(ev.keeper.events_of(task)) == 1, what="the run of the rise")
        assert ev.keeper.events_of(task)[0]["condition"] == "disk-full"

    # "Restart": a new probe runner on the persisted state, condition still true.
    bus = EventBus(store=store, sink=ev.harness.pool, clock=clock)
    again = ConditionProbes(store=store, bus=bus, clock=clock, executors=executors)
    source = await store.source(SourceKind.CONDITION, "disk-full")
    assert source is not None and (source.state or {}).get("true") is True
    assert await again.check(Condition.of(source), source.state or {}) is True
    assert await store.count(kind=SourceKind.CONDITION) == 1

    usage.write_text("40\n")
    source = await store.source(SourceKind.CONDITION, "disk-full")
    assert source is not None
    assert await again.check(Condition.of(source), source.state or {}) is False
    usage.write_text("97\n")
    source = await store.source(SourceKind.CONDITION, "disk-full")
    assert source is not None
    assert await again.check(Condition.of(source), source.state or {}) is True
    assert await store.count(kind=SourceKind.CONDITION) == 2  # the second rise


async def test_the_probe_loop_checks_on_its_own_and_fires_the_subscriber(
    sqlite_database: Database,
    clock: ManualClock,
    data_dir: Path,  # noqa: F811
) -> None:
    executors = ExecutorRegistry({"shell": ShellExecutor(policy(data_dir / "data"))})
    task = await subscriber(sqlite_database, "condition:always")
    async with with_events(sqlite_database, clock) as ev:
        probes = ConditionProbes(
            store=ev.layer.store,
            bus=ev.layer.bus,
            clock=clock,
            executors=executors,
            refresh_seconds=0.1,
        )
        await probes.create(
            "always",
            probe={"type": "shell", "command": "echo 42"},
            check=Check(on="number", op="==", value=42),
            every_seconds=5,
        )
        await probes.start()
        try:
            await wait_for(lambda: len(ev.keeper.events_of(task)) == 1, what="the loop's rise")
        finally:
            await probes.stop()
        assert ev.keeper.events_of(task)[0]["output"].strip() == "42"
        assert probes.checks >= 1 and len(ev.keeper.events_of(task)) == 1
