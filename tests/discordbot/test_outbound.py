"""Reminders in bulk: the outbox keeps Kairos under Discord's global limit, so a
burst of reminders due at the same minute is delivered without 429s."""

from __future__ import annotations

import asyncio

from waiting import eventually

from core.messages import Reply, ReplyKind

from .fake_discord import FakeDiscord


async def test_a_burst_of_reminders_meets_no_429(fake: FakeDiscord, start_kairos) -> None:
    _, surface = await start_kairos()
    fake.global_rate, fake.global_burst = 50.0, 50.0
    people = [str(700_000_000_000_100_000 + i) for i in range(120)]
    replies = [
        Reply(text=f"Reminder: stand-up {i}", kind=ReplyKind.REMINDER, user_ref=person)
        for i, person in enumerate(people)
    ]
    refs = await asyncio.gather(*(surface.adapter.send(reply) for reply in replies))
    assert all(refs)
    posts = await eventually(lambda: fake.of("POST", r"^/channels/6\d+/messages$"))
    assert len(posts) == len(people)  # each delivered once (240 calls with the DMs opened)
    assert fake.limited == 0
