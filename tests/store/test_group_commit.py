"""GroupCommit: concurrent callers share one write, each hears its own result or failure."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence

import pytest
from waiting import eventually

from core.batching import GroupCommit

AMBIENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("ambient", default=None)


async def test_callers_queued_during_a_write_share_the_next_one() -> None:
    batches: list[list[int]] = []
    writing, release = asyncio.Event(), asyncio.Event()

    async def write(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        writing.set()
        if len(batches) == 1:
            await release.wait()  # the first write is slow: the others queue meanwhile
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(write)
    first = asyncio.create_task(group.submit(1))
    await asyncio.wait_for(writing.wait(), 10)
    others = [asyncio.create_task(group.submit(i)) for i in range(2, 7)]
    await eventually(lambda: group.queued == 5)  # all five wait behind the slow write
    release.set()
    assert await first == 10
    assert await asyncio.gather(*others) == [20, 30, 40, 50, 60]
    assert batches == [[1], [2, 3, 4, 5, 6]]


async def test_a_failed_batch_fails_its_callers_only_and_the_next_batch_is_written() -> None:
    calls = 0

    async def write(items: Sequence[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if "bad" in items:
            raise RuntimeError("database refused the batch")
        return [s.upper() for s in items]

    group: GroupCommit[str, str] = GroupCommit(write, limit=2)
    results = await asyncio.gather(
        group.submit("a"), group.submit("bad"), group.submit("c"), return_exceptions=True
    )
    assert isinstance(results[0], RuntimeError) and isinstance(results[1], RuntimeError)
    assert results[2] == "C"
    assert calls == 2
    assert await group.submit("d") == "D"  # the flusher is not stuck after a failure


async def test_the_writer_never_sees_a_callers_context() -> None:
    """A caller inside a transaction (an ambient session in a context variable) must
    not have the batch written in its session."""
    seen: list[str | None] = []

    async def write(items: Sequence[int]) -> list[None]:
        seen.append(AMBIENT.get())
        return [None] * len(items)

    group: GroupCommit[int, None] = GroupCommit(write)
    AMBIENT.set("caller's session")
    await group.submit(1)
    assert seen == [None]


async def test_a_cancelled_caller_does_not_strand_the_others() -> None:
    release = asyncio.Event()

    writing: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int]:
        writing.append(list(items))
        await release.wait()
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(write)
    doomed = asyncio.create_task(group.submit(1))
    kept = asyncio.create_task(group.submit(2))
    await eventually(lambda: writing == [[1, 2]])  # both in the batch being written
    doomed.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert await kept == 2
