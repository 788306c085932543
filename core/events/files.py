"""File events: a directory and a glob watched with ``watchfiles``, one event per new or
changed file.

A task subscribes with ``file:<directory>`` or ``file:<directory>/<glob>``
(``file:/srv/drop/*.csv``); the watches follow the subscriptions (re-read every
``refresh_seconds``). Changes are debounced by ``watchfiles``; the dedupe key is
path + mtime + size, so the same file seen twice (or by two replicas on a shared
disk) is one event, and a rewrite with new content is a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watchfiles import Change, awatch

from core.db import Database
from core.events.delivery import EventBus
from core.events.model import EventIn, SourceKind
from core.ports import Clock
from core.scheduler.outage import Outage
from core.store.events import listened_names

log = logging.getLogger(__name__)

_GLOB = set("*?[")


def split_watch(target: str) -> tuple[Path, str]:
    """``(directory, glob)`` of a watch target; a plain directory matches every file."""
    path = Path(target).expanduser()
    if _GLOB & set(path.name):
        return path.parent, path.name
    return path, "*"


def file_event(target: str, path: str, now: datetime) -> EventIn | None:
    """The event for ``path`` (under the watch ``target``); ``None`` if gone or not a file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    payload: dict[str, Any] = {
        "path": path,
        "name": os.path.basename(path),
        "size": st.st_size,
        "mtime": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(),
    }
    key = f"{path}|{st.st_mtime_ns}|{st.st_size}"
    return EventIn(SourceKind.FILE, target, key, payload, now)


class FileWatches:
    """One ``awatch`` per watched directory and glob that some live task listens for."""

    def __init__(
        self,
        *,
        db: Database,
        bus: EventBus,
        clock: Clock,
        refresh_seconds: float = 2.0,
        debounce_ms: int = 300,
    ) -> None:
        self._db = db
        self._bus = bus
        self._clock = clock
        self._refresh = refresh_seconds
        self._debounce = debounce_ms
        self._stop = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._watches: dict[str, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._missing: set[str] = set()
        self._outage = Outage("events-files", logger=log)

    @property
    def watching(self) -> set[str]:
        return set(self._watches)

    async def start(self) -> None:
        self._stop.clear()
        self._loop_task = asyncio.create_task(self._follow(), name="kairos-file-watches")

    async def stop(self) -> None:
        self._stop.set()
        if self._loop_task is not None:
            await self._loop_task
        for target in list(self._watches):
            await self._unwatch(target)

    async def _follow(self) -> None:
        while not self._stop.is_set():
            wait = self._refresh
            try:
                wanted = {n.partition(":")[2] for n in await listened_names(self._db, "file:")}
                for target in wanted - set(self._watches):
                    self._watch(target)
                for target in set(self._watches) - wanted:
                    await self._unwatch(target)
            except Exception as exc:  # the database may be away: one line, then back-off
                wait = self._outage.failed(exc, "refreshing file watches")
            else:
                self._outage.ok()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait)

    def _watch(self, target: str) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(self._run(target, stop), name=f"kairos-watch:{target}")
        self._watches[target] = (task, stop)

    async def _unwatch(self, target: str) -> None:
        task, stop = self._watches.pop(target)
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self, target: str, stop: asyncio.Event) -> None:
        directory, pattern = split_watch(target)
        if not directory.is_dir():
            if target not in self._missing:
                self._missing.add(target)
                log.warning("events: cannot watch %s: not a directory (retrying)", directory)
            self._watches.pop(target, None)  # the next refresh tries again
            return
        self._missing.discard(target)
        async for changes in awatch(
            directory, stop_event=stop, debounce=self._debounce, recursive=False
        ):
            paths = sorted(
                {
                    path
                    for change, path in changes
                    if change in (Change.added, Change.modified)
                    and fnmatch.fnmatch(os.path.basename(path), pattern)
                }
            )
            for path in paths:
                event = await asyncio.to_thread(file_event, target, path, self._clock.now())
                if event is not None:
                    try:
                        await self._bus.record(event)
                    except Exception as exc:
                        log.warning("events: file event for %s not recorded: %s", path, exc)
