"""A fake Discord on a local port: REST (``Route.BASE``) and a gateway, for real discord.py.

REST answers the routes Kairos calls with Discord-shaped JSON and records every
call (method, path, JSON body, or the ``payload_json`` and file names of a
multipart body). ``throttle`` makes a route answer 429 with ``retry_after``
a number of times. The gateway (an aiohttp websocket at the URL that
``GET /gateway/bot`` names) sends HELLO, answers heartbeats, sends READY and
GUILD_CREATE after IDENTIFY, replays missed events after RESUME, and lets a
test ``dispatch`` any event (MESSAGE_CREATE, INTERACTION_CREATE, …) or
``drop`` the connection.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from discord.utils import time_snowflake

APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
GUILD_ID = "800000000000000001"
CHANNEL_ID = "810000000000000001"
ADMINS_ROLE = "820000000000000001"
ALICE = "700000000000000001"
BOB = "700000000000000002"
#: Manage Server (0x20) and the usual text permissions.
MANAGE_GUILD = str(0x20 | 0x400 | 0x800)
MEMBER_PERMISSIONS = str(0x400 | 0x800)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with exactly ``application/json``, the content type discord.py parses."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def user(user_id: str, name: str = "", *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name or f"user{user_id[-3:]}",
        "global_name": name or None,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def message_payload(
    message_id: str, channel: str, author: dict[str, Any], content: str
) -> dict[str, Any]:
    """A MESSAGE object as Discord sends it (gateway events and REST answers)."""
    return {
        "id": message_id,
        "channel_id": channel,
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "type": 0,
    }


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    files: list[str] = field(default_factory=list)
    authorization: str = ""
    #: ``time.monotonic()`` when the request reached the fake's handler (before its body
    #: was read or parsed).
    at: float = 0.0


@dataclass
class FakeDiscord:
    """State and recordings; ``await fake.start()`` gives the REST base URL."""

    token: str = "fake-bot-token.abc.def"
    calls: list[Call] = field(default_factory=list)
    #: path regex → how many more times to answer 429.
    throttle: Counter[str] = field(default_factory=Counter)
    retry_after: float = 0.3
    #: Seconds before each REST answer.
    latency: float = 0.0
    identifies: list[dict[str, Any]] = field(default_factory=list)
    resumes: list[dict[str, Any]] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)
    limited: int = 0
    #: channels where the bot may not post (POST …/messages → 403 Missing Permissions).
    closed_channels: set[str] = field(default_factory=set)
    #: Discord's global limit (requests a second per bot; ``None``: none). Over it:
    #: a global 429 with ``retry_after``.
    global_rate: float | None = None
    global_burst: float = 50.0
    _bucket: tuple[float, float] = (0.0, 0.0)
    _ids: Any = field(default_factory=lambda: itertools.count(1_100_000_000_000_000_001))
    _seq: int = 0
    #: interaction id → its callbacks; interaction token → its follow-ups.
    _answers: dict[str, list[Call]] = field(default_factory=dict)
    _events: list[dict[str, Any]] = field(default_factory=list)
    _session: str = "session-1"

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=32 * 2**20)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self.api_url = f"{self.url}/api/v10"
        return self.api_url

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        await self._runner.cleanup()

    def next_id(self) -> str:
        return str(next(self._ids))

    # --- queries for tests -----------------------------------------------------

    def of(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.search(pattern, c.path)]

    def callbacks(self, interaction_id: str) -> list[Call]:
        return [c for c in self._answers.get(interaction_id, []) if c.path.endswith("/callback")]

    def followups(self, token: str) -> list[Call]:
        return list(self._answers.get(token, []))

    def answers(self, interaction_id: str, token: str) -> list[dict[str, Any]]:
        """What an interaction was answered with: callback data, then follow-ups."""
        bodies = [c.body.get("data") or {} for c in self.callbacks(interaction_id)]
        return bodies + [c.body for c in self.followups(token)]

    # --- gateway ---------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._events.append(frame)
        live = [ws for ws in self.sockets if not ws.closed]
        if live:
            await live[-1].send_json(frame)

    async def drop(self, code: int = 4000) -> None:
        """Close the gateway connection as Discord does when it restarts a node."""
        for ws in self.sockets:
            if not ws.closed:
                await ws.close(code=code)

    def guild(self) -> dict[str, Any]:
        everyone = {"id": GUILD_ID, "name": "@everyone", "permissions": MEMBER_PERMISSIONS}
        admins = {"id": ADMINS_ROLE, "name": "Admins", "permissions": MANAGE_GUILD}
        roles = [
            {
                **r,
                "position": i,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
            for i, r in enumerate((everyone, admins))
        ]
        channel = {
            "id": CHANNEL_ID,
            "type": 0,
            "name": "eng",
            "position": 0,
            "guild_id": GUILD_ID,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        }
        return {
            "id": GUILD_ID,
            "name": "Kairos Test Server",
            "owner_id": ALICE,
            "roles": roles,
            "channels": [channel],
            "threads": [],
            "members": [],
            "member_count": 3,
            "features": [],
            "emojis": [],
            "stickers": [],
            "large": False,
            "unavailable": False,
            "joined_at": now_iso(),
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
            "afk_timeout": 300,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
        }

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for message in ws:
            if message.type != web.WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            op = frame.get("op")
            if op == 1:
                await ws.send_json({"op": 11})
            elif op == 2:
                self.identifies.append(frame["d"])
                await self._ready(ws)
            elif op == 6:
                self.resumes.append(frame["d"])
                after = int(frame["d"].get("seq") or 0)
                for missed in [e for e in self._events if e["s"] > after]:
                    await ws.send_json(missed)
                self._seq += 1
                await ws.send_json({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})
        return ws

    async def _ready(self, ws: web.WebSocketResponse) -> None:
        self._seq += 1
        ready = {
            "v": 10,
            "user": user(BOT_ID, "Kairos", bot=True),
            "guilds": [{"id": GUILD_ID, "unavailable": True}],
            "session_id": self._session,
            "resume_gateway_url": f"{self.url.replace('http://', 'ws://')}/gateway",
            "application": {"id": APP_ID, "flags": 0},
        }
        await ws.send_json({"op": 0, "t": "READY", "s": self._seq, "d": ready})
        self._seq += 1
        frame = {"op": 0, "t": "GUILD_CREATE", "s": self._seq, "d": self.guild()}
        await ws.send_json(frame)

    # --- events a test sends ---------------------------------------------------

    def message(
        self,
        content: str,
        *,
        author: str = ALICE,
        channel: str = CHANNEL_ID,
        guild: bool = True,
        roles: tuple[str, ...] = (),
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data = message_payload(
            self.next_id(), channel, user(author, "alice" if author == ALICE else "bob"), content
        )
        if reply_to is not None:
            data["type"] = 19
            data["message_reference"] = {
                "message_id": reply_to["id"],
                "channel_id": reply_to["channel_id"],
            }
            data["referenced_message"] = reply_to
        if guild:
            data["guild_id"] = GUILD_ID
            data["member"] = {
                "roles": list(roles),
                "joined_at": now_iso(),
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        return data

    def interaction(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        author: str = ALICE,
        channel: str = CHANNEL_ID,
        guild: bool = True,
        admin: bool = False,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload: 2 command, 3 component, 4 autocomplete, 5 modal."""
        payload: dict[str, Any] = {
            "id": self.next_id(),
            "application_id": APP_ID,
            "type": kind,
            "token": f"itoken-{self.next_id()}",
            "version": 1,
            "data": data,
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID} if guild else {"1": author},
            "context": 0 if guild else 1,
            "app_permissions": MANAGE_GUILD,
            "attachment_size_limit": 8 * 2**20,
        }
        who = user(author, "alice" if author == ALICE else "bob")
        if guild:
            payload["guild_id"] = GUILD_ID
            payload["guild_locale"] = "en-US"
            payload["channel_id"] = channel
            payload["channel"] = {"id": channel, "type": 0, "guild_id": GUILD_ID, "name": "eng"}
            payload["member"] = {
                "user": who,
                "roles": [ADMINS_ROLE] if admin else [],
                "permissions": MANAGE_GUILD if admin else MEMBER_PERMISSIONS,
                "joined_at": now_iso(),
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
        else:
            payload["channel_id"] = channel
            payload["channel"] = {"id": channel, "type": 1}
            payload["user"] = who
        if message is not None:
            payload["message"] = message
        return payload

    def command(self, name: str, options: dict[str, Any], **kw: Any) -> dict[str, Any]:
        opts = [
            {"name": k, "type": 5 if isinstance(v, bool) else 3, "value": v}
            for k, v in options.items()
        ]
        data = {"id": self.next_id(), "name": name, "type": 1, "options": opts}
        return self.interaction(2, data, **kw)

    def autocomplete(self, name: str, option: str, typed: str, **kw: Any) -> dict[str, Any]:
        opts = [{"name": option, "type": 3, "value": typed, "focused": True}]
        data = {"id": self.next_id(), "name": name, "type": 1, "options": opts}
        return self.interaction(4, data, **kw)

    def press(self, custom_id: str, message: dict[str, Any], **kw: Any) -> dict[str, Any]:
        data = {"custom_id": custom_id, "component_type": 2}
        return self.interaction(3, data, message=message, **kw)

    def submit(self, custom_id: str, values: dict[str, str], **kw: Any) -> dict[str, Any]:
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
            for k, v in values.items()
        ]
        return self.interaction(5, {"custom_id": custom_id, "components": rows}, **kw)

    # --- REST ------------------------------------------------------------------

    async def _record(self, request: web.Request, arrived: float) -> Call:
        body: dict[str, Any] = {}
        files: list[str] = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    files.append(part.filename or "")  # type: ignore[union-attr]
                    await part.read()  # type: ignore[union-attr]
        else:
            raw = await request.read()
            if raw:
                body = json.loads(raw)
        path = "/" + request.match_info["tail"]
        call = Call(
            request.method,
            path,
            body,
            files,
            request.headers.get("Authorization", ""),
            at=arrived,
        )
        self.calls.append(call)
        answering = rf"/interactions/(\d+)/[^/]+/callback|/webhooks/{APP_ID}/([^/]+)(?:/.*)?"
        if found := re.fullmatch(answering, path):
            self._answers.setdefault(found.group(1) or found.group(2), []).append(call)
        return call

    async def _rest(self, request: web.Request) -> web.Response:
        # The moment the request reached the fake, before its body is read or parsed.
        call = await self._record(request, time.monotonic())
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.global_rate is not None and not self._take_global():
            self.limited += 1
            wait = round(1.0 / self.global_rate, 3)
            return json_response(
                {"message": "You are being rate limited.", "retry_after": wait, "global": True},
                status=429,
                headers={
                    "Retry-After": str(wait),
                    "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global",
                },
            )
        for pattern, left in list(self.throttle.items()):
            if left > 0 and re.search(pattern, call.path):
                self.throttle[pattern] -= 1
                self.limited += 1
                return json_response(
                    {
                        "message": "You are being rate limited.",
                        "retry_after": self.retry_after,
                        "global": False,
                    },
                    status=429,
                    headers={
                        "Retry-After": str(self.retry_after),
                        "X-RateLimit-Scope": "user",
                        "X-RateLimit-Bucket": "fake",
                        "X-RateLimit-Limit": "5",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset-After": str(self.retry_after),
                    },
                )
        # Interaction answers are authorised by the interaction's token (in the path).
        by_token = call.path.startswith(("/interactions/", "/webhooks/"))
        if not by_token and call.authorization != f"Bot {self.token}":
            return json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        posting = re.fullmatch(r"/channels/(\d+)/messages", call.path)
        if posting and call.method == "POST" and self._closed(posting.group(1)):
            return json_response({"message": "Missing Permissions", "code": 50013}, status=403)
        answer = await self._answer(call, request)
        if answer is None:
            return web.Response(status=204)
        return json_response(answer)

    def _closed(self, channel: str) -> bool:
        """A closed channel, or a thread in one (threads take their channel's permissions)."""
        parent = self.threads.get(channel, {}).get("parent_id")
        return channel in self.closed_channels or parent in self.closed_channels

    def _take_global(self) -> bool:
        assert self.global_rate is not None
        now = time.monotonic()
        tokens, stamp = self._bucket if self._bucket[1] else (self.global_burst, now)
        tokens = min(self.global_burst, tokens + (now - stamp) * self.global_rate)
        if tokens < 1.0:
            self._bucket = (tokens, now)
            return False
        self._bucket = (tokens - 1.0, now)
        return True

    def posted(
        self,
        content: str,
        *,
        author: str = ALICE,
        at: datetime | None = None,
        channel: str = CHANNEL_ID,
    ) -> dict[str, Any]:
        """A message someone wrote in the channel at ``at`` (readable through its history).

        Its id is a snowflake of ``at``, as on Discord (clients read the time from the id).
        """
        data = self.message(content, author=author, channel=channel)
        if at is not None:
            data["id"] = str(time_snowflake(at) + next(self._ids) % 4096)
            data["timestamp"] = at.isoformat()
        self.messages[data["id"]] = data
        return data

    def _history(self, channel: str, query: Any) -> list[dict[str, Any]]:
        """``GET /channels/{id}/messages``: newest first, ``before``/``after``/``limit``."""
        found = [m for m in self.messages.values() if m["channel_id"] == channel]
        if "before" in query:
            found = [m for m in found if int(m["id"]) < int(query["before"])]
        if "after" in query:
            found = [m for m in found if int(m["id"]) > int(query["after"])]
        found.sort(key=lambda m: int(m["id"]), reverse=True)
        return found[: int(query.get("limit", 50))]

    def _message_payload(self, channel: str, body: dict[str, Any], message_id: str) -> dict:
        data = message_payload(
            message_id, channel, user(BOT_ID, "Kairos", bot=True), body.get("content") or ""
        )
        data.update(
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=body.get("flags") or 0,
        )
        self.messages[message_id] = data
        return data

    async def _answer(self, call: Call, request: web.Request) -> Any:
        path, method = call.path, call.method
        if path == "/users/@me":
            return user(BOT_ID, "Kairos", bot=True)
        if path == "/oauth2/applications/@me":
            return {
                "id": APP_ID,
                "name": "Kairos",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": user(ALICE, "alice"),
                "verify_key": "0" * 64,
                "flags": 0,
            }
        if path == "/gateway/bot":
            return {
                "url": f"{self.url.replace('http://', 'ws://')}/gateway",
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        if found := re.fullmatch(r"/users/@me/channels", path):
            recipient = str(call.body.get("recipient_id"))
            return {"id": f"6{recipient[1:]}", "type": 1, "recipients": [user(recipient)]}
        if found := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path):
            channel, message_id = found.groups()
            thread = {
                "id": message_id,
                "type": 11,
                "guild_id": GUILD_ID,
                "parent_id": channel,
                "owner_id": BOT_ID,
                "name": call.body.get("name", ""),
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": call.body.get("auto_archive_duration", 1440),
                    "archive_timestamp": now_iso(),
                    "locked": False,
                },
                "member_count": 1,
                "message_count": 0,
                "rate_limit_per_user": 0,
                "flags": 0,
            }
            self.threads[message_id] = thread
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
            return thread
        if found := re.fullmatch(r"/channels/(\d+)/messages", path):
            if method == "GET":
                return self._history(found.group(1), request.query)
            return self._message_payload(found.group(1), call.body, self.next_id())
        if found := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path):
            if method == "PATCH":
                return self._message_payload(found.group(1), call.body, found.group(2))
            return self.messages.get(found.group(2), {})
        if found := re.fullmatch(r"/channels/(\d+)", path):
            return self.threads.get(found.group(1)) or self.guild()["channels"][0]
        if found := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            if request.query.get("with_response") in ("1", "true", "True"):
                kind = call.body.get("type")
                resource: dict[str, Any] = {"type": kind}
                if kind in (4, 7):
                    data = call.body.get("data") or {}
                    resource["message"] = self._message_payload(CHANNEL_ID, data, self.next_id())
                return {
                    "interaction": {
                        "id": found.group(1),
                        "type": 2,
                        "response_message_loading": kind == 5,
                        "response_message_ephemeral": bool(
                            (call.body.get("data") or {}).get("flags", 0) & 64
                        ),
                    },
                    "resource": resource,
                }
            return None
        if re.fullmatch(rf"/webhooks/{APP_ID}/[^/]+(/messages/@original)?", path):
            return self._message_payload(CHANNEL_ID, call.body, self.next_id())
        if found := re.fullmatch(rf"/applications/{APP_ID}(/guilds/\d+)?/commands", path):
            return [
                {**command, "id": self.next_id(), "application_id": APP_ID, "version": "1"}
                for command in call.body  # type: ignore[union-attr]
            ]
        return {}
