"""A fake Slack Web API on a local port: real slack_sdk clients talk to it.

It answers the methods Kairos calls with Slack-shaped JSON, records every
request (method, token, parsed body) so tests assert on what was actually
sent, serves ``response_url`` posts under ``/response/…``, and can be told to
answer a method with 429 + ``Retry-After`` a number of times (``throttle``), to
enforce a per-channel ``chat.postMessage`` limit like Slack's (``channel_rate``,
``channel_burst``: 429 + ``Retry-After`` when a channel's bucket is empty), and
to answer after a ``latency`` (seconds), counting the requests in flight. Posted
messages are kept with their metadata for ``conversations.history`` and
``conversations.replies`` (``bench.slack_history``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the history model is shared with the benchmark's fake
    sys.path.insert(0, str(ROOT))

from bench.slack_history import ChannelHistory  # noqa: E402


@dataclass
class Call:
    method: str
    token: str | None
    body: dict[str, Any]

    def blocks(self) -> list[dict[str, Any]]:
        raw = self.body.get("blocks") or []
        return json.loads(raw) if isinstance(raw, str) else list(raw)

    def view(self) -> dict[str, Any]:
        raw = self.body.get("view") or {}
        return json.loads(raw) if isinstance(raw, str) else dict(raw)


@dataclass
class FakeSlack:
    """State and recordings of the fake API. Start with ``await fake.start()``."""

    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    timezones: dict[str, str] = field(default_factory=dict)
    #: users whose users.info says is_admin (workspace admins).
    admins: set[str] = field(default_factory=set)
    #: channels the bot is not a member of (chat.postMessage → not_in_channel).
    closed_channels: set[str] = field(default_factory=set)
    #: method → how many more times to answer 429.
    throttle: Counter[str] = field(default_factory=Counter)
    retry_after: int = 1
    #: OAuth code → (team id, bot token) that oauth.v2.access hands out.
    oauth_codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    #: Socket Mode: open connections, and what clients sent back (envelope acks).
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    #: files_upload_v2: file id → the bytes uploaded.
    uploads: dict[str, bytes] = field(default_factory=dict)
    #: files_upload_v2 asks for every file's upload URL first: each gets its own id.
    file_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    attempts: Counter[str] = field(default_factory=Counter)
    #: The client connections (address, port) API calls arrived on.
    peers: set[Any] = field(default_factory=set)
    #: Seconds to wait before answering each API call (0: at once).
    latency: float = 0.0
    #: chat.postMessage per channel: messages a second and the bucket's size
    #: (``None``: unlimited). Over it: 429 with ``Retry-After: retry_after``.
    channel_rate: float | None = None
    channel_burst: int = 1
    #: channel → how many 429s its chat.postMessage calls got.
    limited: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    #: Every message posted, for conversations.history / .replies (with metadata).
    history: ChannelHistory = field(default_factory=ChannelHistory)
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return f"{self.url}/api/"

    async def stop(self) -> None:
        await self._runner.cleanup()

    # --- queries for tests -----------------------------------------------------

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}/response/{name}"

    async def push(self, envelope: dict[str, Any]) -> None:
        """Deliver a Socket Mode envelope to the connected client."""
        await self.sockets[-1].send_json(envelope)

    # --- handlers --------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake-slack"},
                "connection_info": {"app_id": "A0001"},
            }
        )
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws

    def _apps_connections_open(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not (token or "").startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if not raw:
            return body
        if request.content_type == "application/json":
            body.update(json.loads(raw))
        else:
            body.update(parse_qsl(raw.decode()))
        return body

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK")

    def _files_getUploadURLExternal(
        self, body: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        file_id = f"F{next(self.file_ids):04d}"
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(
        self, body: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        return {"ok": True, "files": [{"id": f["id"]} for f in json.loads(body["files"])]}

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.append({"url": request.path, **json.loads(await request.read())})
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._body(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or body.get("token")
        self.attempts[method] += 1
        self.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            # Slack acts on arrival; its answer reaches the client after the latency.
            response = self._answer(method, body, token)
            if self.latency:
                await asyncio.sleep(self.latency)
            return response
        finally:
            self.in_flight -= 1

    def _channel_allows(self, channel: str) -> bool:
        """Take a token from ``channel``'s bucket (Slack's ~1 message/s per channel)."""
        if self.channel_rate is None:
            return True
        now = time.monotonic()
        tokens, stamp = self._buckets.get(channel, (float(self.channel_burst), now))
        tokens = min(float(self.channel_burst), tokens + (now - stamp) * self.channel_rate)
        if tokens < 1.0:
            self._buckets[channel] = (tokens, now)
            return False
        self._buckets[channel] = (tokens - 1.0, now)
        return True

    def _answer(self, method: str, body: dict[str, Any], token: str | None) -> web.Response:
        channel = str(body.get("channel"))
        if method == "chat.postMessage" and not self._channel_allows(channel):
            self.limited[channel] += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        if self.throttle[method] > 0:
            self.throttle[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        self.calls.append(Call(method=method, token=token, body=body))
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        data = handler(body, token) if handler else {"ok": True}
        return web.json_response(data)

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _auth_test(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        team = (token or "").split("-")[-1] if token and token.count("-") >= 2 else "T0001"
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "kairos",
            "team_id": team,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
        }

    def _chat_postMessage(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = str(body.get("channel"))
        if channel in self.closed_channels:
            return {"ok": False, "error": "not_in_channel"}
        ts = self._next_ts()
        self.history.add(body, ts)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"ts": ts, "text": body.get("text"), "bot_id": self.bot_id},
        }

    def _conversations_history(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        return self.history.history(body)

    def _conversations_replies(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        return self.history.replies(body)

    def _chat_update(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}

    def _chat_postEphemeral(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _conversations_open(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + str(body.get("users", "X")).lstrip("UW")}}

    def _users_info(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        user = str(body.get("user"))
        return {
            "ok": True,
            "user": {
                "id": user,
                "name": user.lower(),
                "real_name": f"Person {user}",
                "tz": self.timezones.get(user, "Europe/Berlin"),
                "is_admin": user in self.admins,
                "is_owner": False,
                "profile": {"display_name": f"person-{user.lower()}"},
            },
        }

    def _views_open(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V0001"}}

    def _views_publish(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "VHOME"}}

    def _oauth_v2_access(self, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        code = str(body.get("code"))
        if code not in self.oauth_codes:
            return {"ok": False, "error": "invalid_code"}
        team, bot_token = self.oauth_codes[code]
        return {
            "ok": True,
            "app_id": "A0001",
            "token_type": "bot",
            "access_token": bot_token,
            "scope": "chat:write,commands",
            "bot_user_id": self.bot_user_id,
            "team": {"id": team, "name": f"Team {team}"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U0001"},
        }


Served = TypeVar("Served", bound=FakeSlack)


@contextlib.asynccontextmanager
async def serving(server: Served) -> AsyncIterator[Served]:
    """``server`` started (its Web API address in ``api_url``), stopped on leaving."""
    server.api_url = await server.start()  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        await server.stop()
