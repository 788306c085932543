"""Full run logs in Supabase Storage, through the ``supabase`` client (storage3).

Each attempt's output is spooled to a capped local file while it runs (the
same ``FileLogSink`` the local store uses: cheap, never blocks on the network),
uploaded to ``<bucket>/task-<task>/run-<run>-<attempt>.log`` when the attempt
ends, then the spool file is removed. The run records the location as
``supabase://<bucket>/<key>``. If the upload fails, the spool file stays and
its path is recorded instead, so a Storage outage never loses a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from core.executors.logs import FileLogs, FileLogSink, read_file
from core.jobs import Job

log = logging.getLogger(__name__)

SCHEME = "supabase://"


class SupabaseLogs:
    """A ``core.ports.LogStore`` on a Supabase Storage bucket (which must exist)."""

    def __init__(
        self,
        *,
        url: str,
        key: str,
        bucket: str,
        spool: Path,
        cap: int = 64 * 1024,
        file_cap: int = 16 * 2**20,
        timeout_seconds: int = 30,
    ) -> None:
        self._url = url.rstrip("/")
        self._key = key
        self._bucket = bucket
        self._spool = FileLogs(spool, cap=cap, file_cap=file_cap)
        self._timeout = timeout_seconds
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def _storage(self) -> Any:
        """The bucket's file API, the client created on first use (never at import)."""
        async with self._lock:
            if self._client is None:
                from supabase import AsyncClientOptions, acreate_client

                options = AsyncClientOptions(storage_client_timeout=self._timeout)
                self._client = await acreate_client(self._url, self._key, options=options)
        return self._client.storage.from_(self._bucket)

    def open(self, job: Job) -> SupabaseLogSink:
        spooled = self._spool.open(job)
        key = f"task-{job.task_id}/run-{job.run_id}-{job.attempt}.log"
        return SupabaseLogSink(spooled, store=self, key=key)

    async def upload(self, key: str, path: Path) -> str:
        """Upload the file at ``path`` as ``key``; the location to record."""
        data = await asyncio.to_thread(path.read_bytes)
        bucket = await self._storage()
        await bucket.upload(
            key, data, {"content-type": "text/plain; charset=utf-8", "upsert": "true"}
        )
        return f"{SCHEME}{self._bucket}/{key}"

    async def read(self, location: str, *, limit: int | None = None) -> bytes | None:
        if not location.startswith(SCHEME):
            return await asyncio.to_thread(read_file, Path(location), limit)  # a spool file left
        bucket_name, _, key = location.removeprefix(SCHEME).partition("/")
        try:
            bucket = await self._storage()
            if bucket_name != self._bucket:
                bucket = self._client.storage.from_(bucket_name)
            data: bytes = await bucket.download(key)
        except Exception as exc:  # storage3 and httpx errors: the log is unavailable
            log.warning("cannot read the log %s from Supabase Storage: %s", location, exc)
            return None
        return data if limit is None else data[:limit]


class SupabaseLogSink:
    """Spools to a local file; uploads it when closed (``SupabaseLogs``)."""

    def __init__(self, spooled: FileLogSink, *, store: SupabaseLogs, key: str) -> None:
        self._spooled = spooled
        self._store = store
        self._key = key
        self._location: str | None = None

    async def write(self, stream: str, text: str) -> None:
        await self._spooled.write(stream, text)

    def excerpt(self) -> str:
        return self._spooled.excerpt()

    @property
    def location(self) -> str | None:
        return self._location or self._spooled.location

    async def close(self) -> None:
        await self._spooled.close()
        path = self._spooled.location
        if path is None:
            return  # nothing was written
        try:
            self._location = await self._store.upload(self._key, Path(path))
        except Exception as exc:  # keep the spool file: the log is not lost
            log.warning("run log %s stays in %s: upload failed: %s", self._key, path, exc)
            return
        with contextlib.suppress(OSError):
            await asyncio.to_thread(Path(path).unlink)
