"""File events against the real file system: a file written → one event → one run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scheduler.harness import wait_for

from core.clock import ManualClock
from core.db import Database
from core.events.files import split_watch
from core.events.model import SourceKind

from .harness import subscriber, with_events


def test_a_watch_target_is_a_directory_and_a_glob(tmp_path: Path) -> None:
    assert split_watch(f"{tmp_path}/*.csv") == (tmp_path, "*.csv")
    assert split_watch(str(tmp_path)) == (tmp_path, "*")


async def test_a_new_and_a_changed_file_each_fire_once(
    sqlite_database: Database, clock: ManualClock, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    task = await subscriber(sqlite_database, f"file:{drop}/*.csv")
    async with with_events(sqlite_database, clock) as ev:
        await wait_for(lambda: ev.layer.files.watching == {f"{drop}/*.csv"}, what="the watch")
        await _watch_in_place(ev.keeper.events_of, task, drop)

        def named(name: str) -> list[Any]:
            return [e for e in ev.keeper.events_of(task) if e["name"] == name]

        await asyncio.to_thread((drop / "a.csv").write_text, "1,2\n")
        await asyncio.to_thread((drop / "ignored.txt").write_text, "x")
        await wait_for(lambda: len(named("a.csv")) == 1, what="the first run")
        assert named("a.csv")[0]["size"] == 4

        await asyncio.to_thread((drop / "a.csv").write_text, "1,2\n3,4\n")
        await wait_for(lambda: len(named("a.csv")) == 2, what="the change's run")
        assert named("a.csv")[1]["size"] == 8
        # One run per stored event, and none for the file outside the glob.
        stored = await wait_for(
            lambda: _stored_as_run(ev, task), what="every stored event to have its run"
        )
        assert stored == len(ev.keeper.events_of(task))
        assert len(named("a.csv")) == 2 and not named("ignored.txt")


async def _stored_as_run(ev: Any, task: int) -> int | None:
    stored = await ev.layer.store.count(kind=SourceKind.FILE)
    return stored if stored == len(ev.keeper.events_of(task)) else None


async def _watch_in_place(
    events_of: Callable[[int], list[Any]], task: int, directory: Path
) -> None:
    """Rewrite a probe file (matching the glob) until its event arrives.

    ``watching`` lists a target as soon as its task starts; watchfiles then sets
    its inotify watch up in a thread of its own, and a file written before that
    is never seen. No fixed pause is long enough on a loaded machine: this waits
    for the watch to prove itself instead. The probe's events are left out of
    the test's assertions by name.
    """
    probe = directory / "probe.csv"
    loop = asyncio.get_running_loop()
    written = -1.0

    async def seen() -> bool:
        nonlocal written
        if any(e["name"] == probe.name for e in events_of(task)):
            return True
        if loop.time() - written > 1.0:  # a rewrite a second: longer than the debounce
            written = loop.time()
            await asyncio.to_thread(probe.write_text, f"{written}\n")
        return False

    await wait_for(seen, limit=60.0, what="the watch to report a probe file")
