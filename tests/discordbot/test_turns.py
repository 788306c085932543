"""``Turns``: work waits for pending first responses, but not forever."""

from __future__ import annotations

import asyncio

from bot.discord.turns import Turns


async def test_work_waits_while_a_first_response_is_pending() -> None:
    turns = Turns(limit=4)
    order: list[str] = []
    inside, sent, arrived = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def answer() -> None:
        async with turns.answering():
            inside.set()
            await sent.wait()
            order.append("answered")

    async def work() -> None:
        arrived.set()  # from here to "worked" nothing yields unless the work waits
        async with turns.work():
            order.append("worked")

    answering = asyncio.create_task(answer())
    await asyncio.wait_for(inside.wait(), 10)
    working = asyncio.create_task(work())
    await asyncio.wait_for(arrived.wait(), 10)
    assert order == []  # the work did not start while the answer was pending
    sent.set()
    await asyncio.wait_for(asyncio.gather(answering, working), 10)
    assert order == ["answered", "worked"]


async def test_work_is_not_starved_by_a_first_response_that_never_ends() -> None:
    turns = Turns(limit=1, patience=0.05)
    inside, stuck = asyncio.Event(), asyncio.Event()

    async def answer() -> None:
        async with turns.answering():
            inside.set()
            await stuck.wait()

    answering = asyncio.create_task(answer())
    await asyncio.wait_for(inside.wait(), 10)
    done: list[bool] = []

    async def work() -> None:
        async with turns.work():
            done.append(True)

    await asyncio.wait_for(work(), 10)
    assert done == [True]
    answering.cancel()
