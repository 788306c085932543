"""Waiting on a condition with a deadline — never a fixed sleep, then an assert.

Work after an ack, a listener or a background loop finishes when it finishes;
on a loaded machine it may take seconds. ``eventually`` polls until the
condition holds (returning its value) or fails after ``within`` seconds.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], T | Awaitable[T]], *, within: float = 10.0, every: float = 0.02
) -> T:
    """Poll ``check`` (sync or async) until it returns something truthy; return that."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {check}")
        await asyncio.sleep(every)
