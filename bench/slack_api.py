"""A fake Slack Web API for benchmarks: random latency, every post timestamped.

Real ``kairos run`` processes talk to it through slack_sdk (``KAIROS_SLACK_API_URL``).
It answers the few methods a replica calls while creating and firing reminders
with Slack-shaped JSON, sleeps a random 100–300 ms (configurable) before each
answer like the real API under load, and records every ``chat.postMessage`` with
the moment it arrived and the token that sent it (each replica gets its own
token, so a post tells which replica made it). ``response_url`` posts (slash
command answers) are accepted under ``/response/…``.

The tests' fake (``tests/slack/fake_slack.py``) records full bodies for
assertions; this one stays lean so that thousands of posts a minute cost the
benchmark process little.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bench.slack_history import ChannelHistory


@dataclass(frozen=True, slots=True)
class Post:
    """One ``chat.postMessage`` as the fake received it."""

    at: float  # time.time() when the request arrived
    token: str
    channel: str
    text: str
    thread_ts: str | None


@dataclass
class BenchSlack:
    """The fake API's state. ``await start()`` returns the base URL for slack_sdk."""

    latency: tuple[float, float] = (0.1, 0.3)
    seed: int | None = None
    posts: list[Post] = field(default_factory=list)
    #: Requests received and not yet answered, per token (a replica's in-flight calls).
    in_flight: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    #: Every message posted, for conversations.history / .replies (with metadata).
    history: ChannelHistory = field(default_factory=ChannelHistory)
    _ts: Any = field(default_factory=lambda: itertools.count(1))

    async def start(self, host: str = "127.0.0.1") -> str:
        self._rng = random.Random(self.seed)
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # users.info is a GET
        app.router.add_post("/response/{name}", self._response)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{host}:{port}"
        return f"{self.url}/api/"

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _sleep(self) -> None:
        low, high = self.latency
        if high > 0:
            await asyncio.sleep(self._rng.uniform(low, high))

    async def _response(self, request: web.Request) -> web.Response:
        await request.read()
        self.calls["response_url"] += 1
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        arrived = time.time()
        method = request.match_info["method"]
        raw = await request.read()
        body: dict[str, Any] = dict(request.query)
        if raw:
            if request.content_type == "application/json":
                body.update(json.loads(raw))
            else:
                body.update(parse_qsl(raw.decode()))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.calls[method] += 1
        self.in_flight[token] += 1
        try:
            if method == "chat.postMessage":
                # Stored on arrival, as Slack does: visible before the answer is.
                body["ts"] = f"1700000000.{next(self._ts):06d}"
                self.history.add(body, body["ts"])
                self.posts.append(
                    Post(
                        at=arrived,
                        token=token,
                        channel=str(body.get("channel")),
                        text=str(body.get("text") or ""),
                        thread_ts=body.get("thread_ts"),
                    )
                )
            await self._sleep()
            return web.json_response(self._answer(method, body, token))
        finally:
            self.in_flight[token] -= 1

    def _answer(self, method: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        if method == "conversations.history":
            return self.history.history(body)
        if method == "conversations.replies":
            return self.history.replies(body)
        if method in {"chat.postMessage", "chat.postEphemeral"}:
            ts = body.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message_ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(body.get("users", "X")).lstrip("UW")}}
        if method == "auth.test":
            return {
                "ok": True,
                "team_id": token.rsplit("-", 1)[-1],
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "team": "Bench",
                "user": "kairos",
                "url": "https://bench.slack.com/",
            }
        if method == "users.info":
            user = str(body.get("user"))
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "name": user.lower(),
                    "real_name": f"Person {user}",
                    "tz": "UTC",
                    "profile": {"display_name": user.lower()},
                },
            }
        return {"ok": True}
