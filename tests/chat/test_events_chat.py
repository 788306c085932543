"""Event triggers in chat: webhooks made, listed and rotated (the secret said once,
privately), tasks subscribing to sources that exist, and never to ones that don't."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from waiting import eventually

from bot.console import WORKSPACE_REF
from core.enums import Platform, Role, RunTrigger
from core.events.model import SourceKind
from core.events.signing import BadSignature, kairos_signature, verify
from core.store import TaskQuery

from .conftest import Chat

SECRET = re.compile(r"only this once\): (\S+)")


async def _admin(chat: Chat, user: str = "ana") -> None:
    store = chat.kairos.store
    ws = await store.ensure_workspace(Platform.CONSOLE, WORKSPACE_REF)
    assert ws.id is not None
    await store.ensure_member(ws.id, user, role=Role.ADMIN)


async def _tasks(chat: Chat) -> list[object]:
    ws = await chat.kairos.store.find_workspace(Platform.CONSOLE, WORKSPACE_REF)
    assert ws is not None and ws.id is not None
    return list(await chat.kairos.tasks.query(TaskQuery(), workspace_id=ws.id))


async def test_create_list_rotate_webhooks_secret_said_once_privately(chat: Chat) -> None:
    await _admin(chat)
    created = await chat.say_one(
        "create a webhook called deploy", is_direct=False, channel_ref="eng"
    )
    assert created.ephemeral, "a secret is never said in a channel"
    secret = SECRET.search(created.text)
    assert secret is not None and "POST /hooks/deploy" in created.text
    assert await chat.kairos.events.webhooks.secret_of("deploy") == secret[1]

    refused = await chat.say_one("create a webhook called other", user="bob")
    assert "Only a workspace owner or admin" in refused.text
    listed = await chat.say_one("list webhooks")
    assert "deploy — POST /hooks/deploy" in listed.text and secret[1] not in listed.text

    rotated = await chat.say_one("rotate the deploy webhook secret")
    new = SECRET.search(rotated.text)
    assert new is not None and new[1] != secret[1] and rotated.ephemeral
    body = b"{}"
    headers = {"x-kairos-signature": kairos_signature(secret[1], body, int(time.time()))}
    try:
        verify(new[1], headers, body, time.time())
        raise AssertionError("the old secret still verifies")
    except BadSignature:
        pass


async def test_when_the_deploy_webhook_fires_notify_eng(chat: Chat) -> None:
    await _admin(chat)
    secret = SECRET.search((await chat.say_one("create a webhook called deploy")).text)
    assert secret is not None
    got = await chat.say_one("when the deploy webhook fires, notify #eng")
    assert "Got it" in got.text and "whenever webhook:deploy fires" in got.text
    assert got.task_id is not None

    body = json.dumps({"version": "v2"}).encode()
    headers = {"x-kairos-signature": kairos_signature(secret[1], body, int(time.time()))}
    event_id, duplicate = await chat.kairos.events.webhooks.accept(
        "deploy", secret=secret[1], headers=headers, body=body, now=time.time()
    )
    assert event_id is not None and not duplicate
    await eventually(lambda: "The deploy webhook fired" in chat.printed())
    runs = await chat.kairos.runs.runs_for(got.task_id)
    assert [(r.trigger, r.event_id) for r in runs] == [(RunTrigger.EVENT, event_id)]


async def test_a_reminder_text_takes_values_from_the_event_that_fired_it(chat: Chat) -> None:
    await _admin(chat)
    secret = SECRET.search((await chat.say_one("create a webhook called deploy")).text)
    assert secret is not None
    got = await chat.say_one(
        "when the deploy webhook fires, notify #eng that {event.ref} was deployed by {event.who}"
    )
    assert "'{event.ref} was deployed by {event.who}'" in got.text, got.text

    body = json.dumps({"ref": "v2.3"}).encode()  # no "who": left as written
    headers = {"x-kairos-signature": kairos_signature(secret[1], body, int(time.time()))}
    await chat.kairos.events.webhooks.accept(
        "deploy", secret=secret[1], headers=headers, body=body, now=time.time()
    )
    await eventually(lambda: "Reminder: v2.3 was deployed by {event.who}" in chat.printed())


async def test_when_a_task_is_done_notify_eng_fires_when_it_is_marked_done(chat: Chat) -> None:
    """An existing task named: the follow-up becomes the next step of its workflow (one
    edge, released when the task is done) rather than a subscription to its events."""
    made = await chat.say_one("add task deploy v2")
    assert made.task_id is not None
    got = await chat.say_one("when 'deploy v2' is done, notify #eng")
    assert "runs after it (workflow 'deploy v2')" in got.text, got.text
    assert got.task_id is not None
    await chat.say_one(f"done {made.task_id}")

    async def released() -> list[RunTrigger]:
        return [r.trigger for r in await chat.kairos.runs.runs_for(got.task_id or 0)]

    assert await eventually(released) == [RunTrigger.DEPENDENCY]


async def test_subscriptions_to_sources_that_cannot_fire_are_refused(
    chat: Chat, tmp_path: Path
) -> None:
    await _admin(chat)
    cases = {
        "when the release webhook fires, notify #eng": "no webhook called 'release'",
        "when 'deploy v3' is done, notify #eng": "can't find a task called 'deploy v3'",
        f"when a file lands in {tmp_path}/missing, run `import.sh`": "not a folder",
        "when a row is inserted into table orders, notify #eng": (
            "need PostgreSQL"
            if chat.kairos.events.listen_dsn is None
            else 'relation "orders" does not exist'
        ),
        "run the cleanup when disk usage exceeds 90 %": "cannot run here",
    }
    await chat.say_one("add task cleanup")
    for said, reason in cases.items():
        reply = await chat.say_one(said)
        assert reason in reply.text, (said, reply.text)
    assert len(await _tasks(chat)) == 1  # only "cleanup"
    assert await chat.kairos.events.store.sources(SourceKind.CONDITION) == []


async def test_a_file_subscription_to_an_existing_folder_is_confirmed(
    chat: Chat, tmp_path: Path
) -> None:
    await _admin(chat)
    got = await chat.say_one(f"when a file lands in {tmp_path}, notify #eng")
    assert f"whenever file:{tmp_path} fires" in got.text, got.text


async def test_when_a_row_is_inserted_into_a_table_notify_eng(chat: Chat) -> None:
    dsn = chat.kairos.events.listen_dsn
    if dsn is None:
        return  # SQLite: refused, see above
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text)")
        refused = await chat.say_one(
            "when a row is inserted into table orders, notify #eng", user="bob"
        )
        assert "Only workspace admins" in refused.text
        await _admin(chat)
        got = await chat.say_one("when a row is inserted into table orders, notify #eng")
        assert "whenever postgres:kairos_orders_inserted fires" in got.text, got.text
        pg = chat.kairos.events.postgres
        assert pg is not None
        await eventually(lambda: "kairos_orders_inserted" in pg.channels)
        await conn.execute("INSERT INTO orders (item) VALUES ('tea')")
    finally:
        await conn.close()
    await eventually(lambda: "A row was inserted into orders" in chat.printed())
