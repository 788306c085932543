"""Sleeping on the injected clock until a deadline or until an event is set."""

from __future__ import annotations

import asyncio

from core.ports import Clock


async def sleep_or_event(clock: Clock, seconds: float, event: asyncio.Event, *, name: str) -> None:
    """Return after ``seconds`` of ``clock`` time, or as soon as ``event`` is set.

    The clock decides what a second is (``ManualClock`` in tests), the event lets
    the owner wake the sleeper early; both helper tasks are named and never leak.
    """
    if event.is_set():
        return
    sleeper = asyncio.create_task(clock.sleep(max(0.0, seconds)), name=f"{name}-sleep")
    waker = asyncio.create_task(event.wait(), name=f"{name}-wake")
    try:
        await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        waker.cancel()
