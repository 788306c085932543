"""Group commit: many concurrent callers, one write per batch.

A burst of callers that each need a small write (1,000 reminders due at 09:00,
each marking its task done) would each hold a connection and wait for the
database's one writer in turn — on SQLite that is a queue of lock waits. Here
each caller queues its item and awaits its own result, while one flusher task
writes everything queued meanwhile in a single call. The flusher is a task of
its own, so a caller that is cancelled never strands the others, and it starts
from an empty context: it never joins a caller's ambient transaction (nor marks
a caller's received command done). Do not submit from inside a transaction:
on SQLite the flusher would wait for the caller's write lock.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """Queue items and write them in batches of at most ``limit`` with ``write``.

    ``write`` gets a batch and returns one result per item, in order; if it
    raises, every caller of that batch gets the exception (nothing of the batch
    is assumed written) and later batches are still tried.
    """

    def __init__(
        self,
        write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        *,
        limit: int = 500,
        name: str = "kairos-group-commit",
    ) -> None:
        self._write = write
        self._limit = limit
        self._name = name
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @property
    def queued(self) -> int:
        """How many items wait for a write to start (those being written not counted)."""
        return len(self._queue)

    async def submit(self, item: Item) -> Result:
        """Queue ``item``; return its result once its batch is written."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(
                self._flush(), name=self._name, context=contextvars.Context()
            )
        return await future

    async def _flush(self) -> None:
        while self._queue:
            batch = self._queue[: self._limit]
            del self._queue[: self._limit]
            try:
                results = await self._write([item for item, _ in batch])
            except Exception as exc:
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(exc)
                continue
            for (_, waiting), result in zip(batch, results, strict=True):
                if not waiting.done():
                    waiting.set_result(result)
