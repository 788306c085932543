"""The Slack HTTP edge over real HTTP: refuse before reading, never a 500, never a traceback.

Every body here is sent to a running uvicorn serving the real bolt app through
``bot.slack.transport``. Signed garbage — generated from the recorded payloads
by deleting and retyping every field, plus hand-picked parser traps — must be
answered 200/404 (acted on or not ours) or 400 (malformed), never 500, with no
traceback logged; unsigned and stale requests get 401 and bolt never logs
their bodies.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from http_server import serving
from hypothesis import given, settings
from hypothesis import strategies as st
from waiting import eventually

from bot.slack.taskforms import ServiceTaskForms, StoreHome
from bot.slack.transport import check_shape
from bot.web import build_web_app
from bot.web.inbound import Refused
from core.intents.rules import RuleParser
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.runs import RunStore

from .recording import RecordingConversation
from .signing import SECRET

PAYLOADS = Path(__file__).parent / "payloads"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
DEEP = 100_000  # far past json's recursion limit
ODD_VALUES: list[Any] = [None, [], {}, 0, -1, 1.5, True, "", "x" * 3000, [1, [2]], {"a": {}}]


def recorded() -> Iterator[tuple[str, dict[str, Any]]]:
    """(how it travels, payload) for each recorded Slack request."""
    for path in sorted(PAYLOADS.glob("*.json")):
        payload = json.loads(path.read_text())
        if "command" in payload:
            yield "command", payload
        elif "event" in payload or payload.get("type") == "event_callback":
            yield "event", payload
        else:
            yield "interactive", payload


def encode(kind: str, payload: Any) -> tuple[bytes, str]:
    if kind == "event":
        return json.dumps(payload).encode(), JSON
    if kind == "command":
        fields = payload if isinstance(payload, dict) else {"x": payload}
        return urlencode(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        ).encode(), FORM
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:2]):
            yield (*prefix, index)
            yield from paths(inner, (*prefix, index))


def mutated(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """``payload`` with the field at ``path`` deleted (``value`` is ``...``) or replaced."""
    copied = copy.deepcopy(payload)
    parent: Any = copied
    for step in path[:-1]:
        parent = parent[step]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copied


def garbage(
    seed: int = 8, sample: int = int(os.environ.get("KAIROS_EDGE_FUZZ_SAMPLE", "700"))
) -> list[tuple[str, bytes, str]]:
    """(label, body, content type): hand-picked traps plus mutations of the recorded payloads."""
    traps: list[tuple[str, bytes, str]] = [
        ("empty", b"", JSON),
        ("array", b"[]", JSON),
        ("not json", b"{not json", JSON),
        ("deep arrays", b"[" * DEEP + b"]" * DEEP, JSON),
        ("deep objects", b'{"a":' * DEEP + b"1" + b"}" * DEEP, JSON),
        ("deep payload", b"payload=" + b"%5B" * DEEP, FORM),
        ("null", b"null", JSON),
        ("number", b"12", JSON),
        ("string", b'"text"', JSON),
        ("not utf-8", b"\xff\xfe\x00{", JSON),
        ("nul", b'{"type": "event_callback\x00"}', JSON),
        ("bad percent", b"payload=%ZZ%", FORM),
        ("payload not json", b"payload={", FORM),
        ("payload array", b"payload=%5B%5D", FORM),
        ("ampersands", b"&&&=&=", FORM),
        ("command only", b"command=%2Fkairos", FORM),
        ("form as json", b"command=/kairos&team_id=T1", JSON),
        ("json as form", b'{"type": "block_actions"}', FORM),
        ("no event", b'{"type": "event_callback", "team_id": "T0001"}', JSON),
        ("event array", b'{"type": "event_callback", "team_id": "T0001", "event": []}', JSON),
        ("unknown type", b'{"type": "surprise", "team_id": "T0001"}', JSON),
        ("challenge missing", b'{"type": "url_verification"}', JSON),
        ("challenge object", b'{"type": "url_verification", "challenge": {"a": []}}', JSON),
        ("ssl check", b"ssl_check=1&token=x", FORM),
        ("huge number", b'{"type": 1e999999}', JSON),
        ("big int", b'{"type": ' + b"9" * 5000 + b"}", JSON),
    ]
    mutations: list[tuple[str, bytes, str]] = []
    for kind, payload in recorded():
        for path in paths(payload):
            for value in [..., *ODD_VALUES]:
                body, content_type = encode(kind, mutated(payload, path, value))
                change = "deleted" if value is ... else repr(value)[:20]
                label = f"{kind} {'/'.join(map(str, path))} → {change}"
                mutations.append((label, body, content_type))
    rng = random.Random(seed)
    return traps + rng.sample(mutations, min(sample, len(mutations)))


@pytest.fixture
async def edge(make_surface, sqlite_database, clock) -> Any:
    # The real forms and App Home too: their listeners read the most of a payload.
    store = SqlStore(sqlite_database)
    service = TaskService(store=store, clock=clock)
    forms = ServiceTaskForms(service=service, store=store, parser=RuleParser(), clock=clock)
    home = StoreHome(store=store, runs=RunStore(sqlite_database), clock=clock)
    conversation = RecordingConversation()
    surface, _ = await make_surface(conversation, store=store, forms=forms, home=home)
    async with (
        serving(build_web_app(surface.routes())) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield client, conversation


def _signed(body: bytes, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


async def test_signed_garbage_is_never_a_500_nor_a_traceback(edge, caplog) -> None:
    client, conversation = edge
    caplog.set_level(logging.INFO)
    statuses: dict[int, list[str]] = {}
    cases = garbage()
    for label, body, content_type in cases:
        response = await client.post(
            "/slack/events", content=body, headers=_signed(body, content_type)
        )
        statuses.setdefault(response.status_code, []).append(label)
    # A genuine message last: once it is handled, the listeners above have run too.
    good, content_type = encode(
        "event", json.loads((PAYLOADS / "dm_message.json").read_text()) | {"event_id": "EvLast"}
    )
    assert (
        await client.post("/slack/events", content=good, headers=_signed(good, content_type))
    ).status_code == 200
    await eventually(
        lambda: any(i.text.startswith("remind me to water") for i in conversation.handled)
    )
    print({status: len(labels) for status, labels in statuses.items()})
    assert set(statuses) <= {200, 400, 404}, {s: v[:5] for s, v in statuses.items() if s >= 500}
    assert len(statuses.get(400, [])) > len(cases) / 3  # most garbage is recognised as such
    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert tracebacks == [], [r.getMessage()[:200] for r in tracebacks[:3]]
    refusals = [r for r in caplog.records if r.name == "bot.web.inbound"]
    assert len(refusals) == len(statuses.get(400, []))  # exactly one line per refusal


async def test_unsigned_stale_or_oddly_signed_requests_get_401_and_no_body_is_logged(
    edge, caplog
) -> None:
    client, conversation = edge
    caplog.set_level(logging.DEBUG)
    body, content_type = encode(
        "command", json.loads((PAYLOADS / "slash_command.json").read_text())
    )
    good = _signed(body, content_type)
    variants = {
        "unsigned": {"Content-Type": content_type},
        "no timestamp": {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"},
        "text timestamp": good | {"X-Slack-Request-Timestamp": "yesterday"},
        "negative timestamp": good | {"X-Slack-Request-Timestamp": "-5"},
        "stale": good | {"X-Slack-Request-Timestamp": str(int(time.time()) - 600)},
        "future": good | {"X-Slack-Request-Timestamp": str(int(time.time()) + 600)},
        "short signature": good | {"X-Slack-Signature": "v0=abc"},
        "other scheme": good | {"X-Slack-Signature": "v1=" + good["X-Slack-Signature"][3:]},
        "wrong digest": good | {"X-Slack-Signature": "v0=" + "0" * 64},
        "non-ascii": good | {"X-Slack-Request-Timestamp": "１２３".encode()},
    }
    for name, headers in variants.items():
        for payload in (body, b"[]", b"{not json", b"[" * DEEP):
            response = await client.post("/slack/events", content=payload, headers=headers)
            assert response.status_code == 401, (name, payload[:10], response.status_code)
    assert conversation.handled == []
    logged = caplog.text
    assert "hooks.slack.com" not in logged and "tomorrow at 9am" not in logged
    assert "Traceback" not in logged


async def test_a_declared_oversized_body_is_refused_before_reading(edge) -> None:
    client, _ = edge
    body = b"x" * (1024 * 1024 + 1)
    response = await client.post("/slack/events", content=body, headers=_signed(body, JSON))
    assert response.status_code == 413


async def test_an_oversized_streamed_body_is_refused_while_reading(edge) -> None:
    client, _ = edge
    sent = 0

    async def chunks() -> Any:
        nonlocal sent
        for _ in range(100):  # 100 MiB, if anybody read it all
            sent += 1024 * 1024
            yield b"y" * (1024 * 1024)

    headers = _signed(b"", JSON)  # the signature cannot match; the size is refused first
    try:
        response = await client.post("/slack/events", content=chunks(), headers=headers)
        status = response.status_code
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        status = None  # the server closed the connection mid-upload: also a refusal
    print(f"streamed upload: status {status}, {sent / 2**20:.0f} MiB produced before the refusal")
    assert status in (413, None)
    assert sent < 20 * 1024 * 1024  # the rest was never read: the connection was closed


async def test_the_cap_follows_the_setting(make_surface, slack_settings) -> None:
    settings = slack_settings.model_copy(update={"http_max_body_bytes": 2048})
    surface, _ = await make_surface(RecordingConversation(), settings=settings)
    transport = httpx.ASGITransport(app=build_web_app(surface.routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://kairos.test") as client:
        small = json.dumps({"type": "surprise", "pad": "x" * 1500}).encode()
        big = json.dumps({"type": "surprise", "pad": "x" * 2500}).encode()
        ok = await client.post("/slack/events", content=small, headers=_signed(small, JSON))
        too_big = await client.post("/slack/events", content=big, headers=_signed(big, JSON))
    assert (ok.status_code, too_big.status_code) == (400, 413)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["type", "event", "user", "team", "team_id", "user_id", "command", "actions", "view",
     "channel", "container", "message", "trigger_id", "callback_id", "id", "action_id"]
)  # fmt: skip
SLACKISH = st.recursive(
    st.none()
    | st.integers()
    | st.text(max_size=6)
    | st.sampled_from(
        [
            "event_callback",
            "block_actions",
            "view_submission",
            "shortcut",
            "message",
            "app_mention",
            "app_home_opened",
            "message_action",
            "/kairos",
            "T0001",
            "U0001",
        ]
    ),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=1500, deadline=None)
@given(body=st.one_of(JSON_VALUES, SLACKISH))
def test_the_shape_check_is_total(body: Any) -> None:
    """Any JSON value is either admitted or refused with a 400 — never another exception."""
    try:
        check_shape(body)
    except Refused as refusal:
        assert refusal.status == 400
