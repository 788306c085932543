"""Run logs: the full output of an attempt in a file, and a capped excerpt for the database.

``FileLogs`` (a ``core.ports.LogSinks``) opens one file per attempt under the
data directory: ``logs/<task>/<run>-<attempt>.log``. The file is capped too
(``file_cap_bytes``) so that a runaway job cannot fill the disk; the excerpt
keeps the head and the tail of the output.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from core.jobs import Job, LogSink

_TRUNCATED = "\n… [{skipped} bytes left out] …\n"


class CappedText:
    """Text kept up to ``cap`` bytes: the first half and the last half when longer."""

    def __init__(self, cap: int) -> None:
        self._half = max(1, cap // 2)
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self._half - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            if len(self._tail) > self._half:
                del self._tail[: len(self._tail) - self._half]

    def text(self) -> str:
        skipped = self.total - len(self._head) - len(self._tail)
        middle = _TRUNCATED.format(skipped=skipped) if skipped > 0 else ""
        return (
            self._head.decode("utf-8", "replace") + middle + self._tail.decode("utf-8", "replace")
        )

    def tail(self, lines: int) -> str:
        """The last ``lines`` lines kept."""
        return "\n".join(self.text().rstrip("\n").splitlines()[-lines:])


class MemoryLogSink:
    """A ``ClosableLogSink`` keeping only the capped excerpt (no file)."""

    def __init__(self, cap: int) -> None:
        self._text = CappedText(cap)

    async def write(self, stream: str, text: str) -> None:
        self._text.add(text.encode("utf-8", "replace"))

    @property
    def location(self) -> str | None:
        return None

    def excerpt(self) -> str:
        return self._text.text()

    async def close(self) -> None:
        return None


class TeeLogSink(MemoryLogSink):
    """Keeps an excerpt and passes everything on to another sink (one the worker gave)."""

    def __init__(self, inner: LogSink, cap: int) -> None:
        super().__init__(cap)
        self._inner = inner

    async def write(self, stream: str, text: str) -> None:
        await super().write(stream, text)
        await self._inner.write(stream, text)

    @property
    def location(self) -> str | None:
        return getattr(self._inner, "location", None)


class FileLogSink(MemoryLogSink):
    """Writes the attempt's output to a file (up to ``file_cap`` bytes) and keeps an excerpt.

    Writes go to the page cache (no fsync): cheap enough to run on the event loop.
    """

    def __init__(self, path: Path, *, cap: int, file_cap: int) -> None:
        super().__init__(cap)
        self._path = path
        self._file_cap = file_cap
        self._written = 0
        self._file: io.BufferedWriter | None = None
        self._full = False

    async def write(self, stream: str, text: str) -> None:
        data = text.encode("utf-8", "replace")
        self._text.add(data)
        if self._full:
            return
        if self._file is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self._path, "wb")  # noqa: SIM115, ASYNC230 - local file, closed in close()
        if stream != "stdout":
            data = b"".join(f"[{stream}] ".encode() + line for line in data.splitlines(True))
        room = self._file_cap - self._written
        if len(data) > room:
            data = data[:room] + b"\n[log file cap reached; the rest was not kept]\n"
            self._full = True
        self._file.write(data)
        self._written += len(data)

    @property
    def location(self) -> str | None:
        return str(self._path) if self._file is not None else None

    async def close(self) -> None:
        if self._file is not None:
            self._file.close()


class FileLogs:
    """Opens one ``FileLogSink`` per attempt under ``directory``."""

    def __init__(
        self, directory: Path, *, cap: int = 64 * 1024, file_cap: int = 16 * 2**20
    ) -> None:
        self._directory = directory
        self._cap = cap
        self._file_cap = file_cap

    def open(self, job: Job) -> FileLogSink:
        path = self._directory / f"task-{job.task_id}" / f"run-{job.run_id}-{job.attempt}.log"
        return FileLogSink(path, cap=self._cap, file_cap=self._file_cap)

    async def read(self, location: str, *, limit: int | None = None) -> bytes | None:
        """The log file at ``location`` (a path this store wrote); ``None`` when it is gone."""
        return await asyncio.to_thread(read_file, Path(location), limit)


def read_file(path: Path, limit: int | None) -> bytes | None:
    """``path``'s first ``limit`` bytes (all when ``None``); ``None`` if it cannot be read."""
    try:
        with path.open("rb") as file:
            return file.read(-1 if limit is None else limit)
    except OSError:
        return None
