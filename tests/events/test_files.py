"""File events against the real file system: a file written → one event → one run."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
        await asyncio.sleep(0.3)  # watchfiles needs its inotify watch in place; not an assert
        await asyncio.to_thread((drop / "a.csv").write_text, "1,2\n")
        await asyncio.to_thread((drop / "ignored.txt").write_text, "x")
        await wait_for(lambda: len(ev.keeper.events_of(task)) == 1, what="the first run")
        first = ev.keeper.events_of(task)[0]
        assert first["name"] == "a.csv" and first["size"] == 4

        await asyncio.to_thread((drop / "a.csv").write_text, "1,2\n3,4\n")
        await wait_for(lambda: len(ev.keeper.events_of(task)) == 2, what="the change's run")
        assert ev.keeper.events_of(task)[1]["size"] == 8
        assert await ev.layer.store.count(kind=SourceKind.FILE) == 2
