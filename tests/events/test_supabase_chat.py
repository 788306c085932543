"""Table inserts asked for in chat: through Supabase Realtime when Supabase is configured
(a whole Kairos against the fake Realtime server), through PostgreSQL otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chat.conftest import ZONE, Chat, chatting
from scheduler.harness import wait_for

from bot.console import WORKSPACE_REF
from bot.settings import Settings
from core.clock import ManualClock
from core.enums import Platform, Role
from core.events.model import SourceKind
from integrations.supabase.realtime import SupabaseRealtime

from .fake_realtime import FakeRealtime

KEY = "sb-service-role-8c3d5e"
ASK = "when a row is inserted into table orders, notify #sales"


@asynccontextmanager
async def admin_chat(
    database_url: str, clock: ManualClock, **supabase: object
) -> AsyncIterator[Chat]:
    """A Kairos chatting on a console, ana an admin of its workspace."""
    settings = Settings(
        database_url=database_url, default_timezone=ZONE, _env_file=None, **supabase
    )  # type: ignore[call-arg]
    async with chatting(settings, clock) as chat:
        store = chat.kairos.store
        ws = await store.ensure_workspace(Platform.CONSOLE, WORKSPACE_REF)
        assert ws.id is not None
        await store.ensure_member(ws.id, "ana", role=Role.ADMIN)
        yield chat


async def test_with_supabase_a_row_inserted_comes_through_realtime(
    database_url: str, clock: ManualClock
) -> None:
    async with (
        FakeRealtime() as fake,
        admin_chat(database_url, clock, supabase_url=fake.url, supabase_key=KEY) as chat,
    ):
        assert isinstance(chat.kairos.events.realtime, SupabaseRealtime)
        refused = await chat.say_one(ASK, user="bob")
        assert "Only workspace admins" in refused.text, refused.text
        got = await chat.say_one(ASK)
        assert "whenever supabase:public.orders fires" in got.text, got.text
        again = await chat.say_one(ASK.replace("#sales", "#eng"), user="bob")
        assert "supabase:public.orders" in again.text, "a watched table: any member subscribes"
        watched = await chat.say_one("watch inserts into table sales.refunds")
        assert "come through Supabase Realtime (supabase:sales.refunds)" in watched.text
        sources = await chat.kairos.events.store.sources(SourceKind.SUPABASE)
        assert [s.name for s in sources] == ["public.orders", "sales.refunds"]
        await wait_for(lambda: fake.joined("public", "orders") == 1, what="the channel joined")
        await fake.insert("public", "orders", {"id": 1, "item": "tea"}, at="2026-12-04T03:00Z")
        await wait_for(
            lambda: chat.printed().count("A row was inserted into public.orders") == 2,
            what="both tasks notified",
        )


async def test_without_supabase_or_with_realtime_off_no_realtime_source(
    database_url: str, clock: ManualClock
) -> None:
    async with admin_chat(database_url, clock) as chat:
        assert chat.kairos.events.realtime is None
        got = await chat.say_one(ASK)
        assert "supabase" not in got.text, got.text  # the PostgreSQL path answers instead
        assert await chat.kairos.events.store.sources(SourceKind.SUPABASE) == []
    off = {"supabase_url": "http://127.0.0.1:9", "supabase_key": KEY, "supabase_realtime": False}
    async with admin_chat(database_url, clock, **off) as chat:
        assert chat.kairos.events.realtime is None
