"""Webhooks over real HTTP: signed requests become durable events and runs with the payload.

Both signature forms, and every refusal (bad signature, replay, oversize,
malformed signature, malformed body, unknown hook) is one log line, no traceback.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest
from http_server import serving
from scheduler.harness import wait_for

from bot.web import build_web_app
from bot.web.hooks import hook_routes
from core.clock import ManualClock
from core.db import Database
from core.enums import Role, RunTrigger
from core.errors import Conflict, PermissionDenied
from core.events.model import SourceKind
from core.events.signing import github_signature, kairos_signature
from core.models import Member
from core.store.events import EventStore

from .harness import Evented, subscriber, with_events

BODY = json.dumps({"ref": "refs/heads/main", "version": "v2"}).encode()


async def _post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url, content=body, headers=headers)


async def _setup(ev: Evented, db: Database) -> tuple[str, int]:
    issued = await ev.layer.webhooks.create("deploy")
    task = await subscriber(db, "webhook:deploy")
    return issued.secret, task


async def test_signed_requests_become_events_and_runs_with_the_payload(
    database: Database, clock: ManualClock
) -> None:
    async with with_events(database, clock) as ev:
        secret, task = await _setup(ev, database)
        app = build_web_app(hook_routes(ev.layer.webhooks, max_bytes=4096))
        async with serving(app) as base:
            now = int(time.time())
            kairos = await _post(
                f"{base}/hooks/deploy",
                BODY,
                {
                    "X-Kairos-Signature": kairos_signature(secret, BODY, now),
                    "Content-Type": "application/json",
                },
            )
            other = json.dumps({"version": "v3"}).encode()
            github = await _post(
                f"{base}/hooks/deploy",
                other,
                {
                    "X-Hub-Signature-256": github_signature(secret, other),
                    "X-GitHub-Delivery": "d-1",
                },
            )
            again = await _post(
                f"{base}/hooks/deploy",
                other,
                {
                    "X-Hub-Signature-256": github_signature(secret, other),
                    "X-GitHub-Delivery": "d-1",
                },
            )
        assert kairos.status_code == 202, kairos.text
        assert github.status_code == 202, github.text
        assert again.status_code == 202 and again.json()["duplicate"] is True
        stored = await ev.layer.store.get(kairos.json()["event_id"])
        assert stored is not None and stored["payload"] == json.loads(BODY)
        assert await ev.layer.store.count(kind=SourceKind.WEBHOOK) == 2

        await wait_for(lambda: len(ev.keeper.events_of(task)) == 2, what="two event runs")
        assert sorted(e["version"] for e in ev.keeper.events_of(task)) == ["v2", "v3"]
        assert {j.trigger for j in ev.keeper.jobs} == {RunTrigger.EVENT}
        runs = await ev.harness.runs(task)
        assert sorted(r.event_id for r in runs) == sorted(
            [kairos.json()["event_id"], github.json()["event_id"]]
        )


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("bad signature", 401, "bad signature"),
        ("replay", 401, "stale signature timestamp"),
        ("unsigned", 401, "unsigned request"),
        ("malformed signature", 401, "malformed signature"),
        ("oversize", 413, "over the 4096-byte limit"),
        ("malformed body", 400, "malformed body"),
        ("unknown hook", 404, "no such webhook"),
        ("wrong secret, github form", 401, "bad signature"),
        ("database failing", 503, "could not be stored"),
    ],
)
async def test_refusals_are_one_log_line_and_store_nothing(
    sqlite_database: Database,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    case: str,
    status: int,
    reason: str,
) -> None:
    async with with_events(sqlite_database, clock) as ev:
        secret, _task = await _setup(ev, sqlite_database)
        now = int(time.time())
        body, path = BODY, "/hooks/deploy"
        headers: dict[str, str] = {"X-Kairos-Signature": kairos_signature(secret, body, now)}
        if case == "bad signature":
            headers["X-Kairos-Signature"] = kairos_signature("not-the-secret", body, now)
        elif case == "replay":
            headers["X-Kairos-Signature"] = kairos_signature(secret, body, now - 301)
        elif case == "unsigned":
            headers = {}
        elif case == "malformed signature":
            headers["X-Kairos-Signature"] = "t=abc,v1=zz"
        elif case == "oversize":
            body = b"{" + b" " * 5000 + b"}"
            headers["X-Kairos-Signature"] = kairos_signature(secret, body, now)
        elif case == "malformed body":
            body = b"{not json"
            headers["X-Kairos-Signature"] = kairos_signature(secret, body, now)
        elif case == "unknown hook":
            path = "/hooks/nope"
        elif case == "wrong secret, github form":
            headers = {"X-Hub-Signature-256": github_signature("wrong", body)}
        elif case == "database failing":
            await ev.layer.webhooks.secret_of("deploy")  # cached: the hook is known
            async with sqlite_database.engine.begin() as conn:
                await conn.exec_driver_sql("ALTER TABLE events RENAME TO events_gone")
        app = build_web_app(hook_routes(ev.layer.webhooks, max_bytes=4096))
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            async with serving(app) as base:
                response = await _post(base + path, body, headers)
        assert response.status_code == status, response.text
        assert reason in response.json()["error"]
        refusals = [r for r in caplog.records if "refused" in r.getMessage()]
        assert len(refusals) == 1 and refusals[0].exc_info is None
        assert secret not in caplog.text
        if case == "database failing":
            async with sqlite_database.engine.begin() as conn:
                await conn.exec_driver_sql("ALTER TABLE events_gone RENAME TO events")
        assert await ev.layer.store.count() == 0


async def test_create_list_rotate(
    store: Any, database: Database, clock: ManualClock, member: Member, other_member: Member
) -> None:
    async with with_events(database, clock) as ev:
        hooks = ev.layer.webhooks
        first = await hooks.create("Deploy", actor=member)
        assert first.hook.name == "deploy" and first.hook.path == "/hooks/deploy"
        with pytest.raises(Conflict):
            await hooks.create("deploy", actor=member)
        with pytest.raises(PermissionDenied):
            await hooks.create("other", actor=other_member)
        assert Role(other_member.role) is Role.MEMBER
        rotated = await hooks.rotate("deploy", actor=member)
        assert rotated.secret != first.secret
        assert await hooks.secret_of("deploy") == rotated.secret
        listed = await hooks.list()
        assert [h.name for h in listed] == ["deploy"]
        assert "secret" not in repr(listed)
        assert await EventStore(database).source(SourceKind.WEBHOOK, "deploy") is not None
