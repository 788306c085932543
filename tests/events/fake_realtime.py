"""A local fake of Supabase Realtime (port 0) speaking its Phoenix-channels websocket protocol.

The real ``realtime`` client (through ``supabase.acreate_client``) talks to it
unmodified at ``ws://127.0.0.1:<port>/realtime/v1/websocket?apikey=…&vsn=1.0.0``:

* ``phx_join`` on ``realtime:<topic>`` with ``config.postgres_changes`` bindings →
  ``phx_reply`` ``ok`` with the bindings and server ids, then a ``system`` message;
* ``heartbeat`` on ``phoenix`` → ``phx_reply`` ``ok``; ``phx_leave`` → ``phx_reply`` ``ok``;
* ``insert`` sends a ``postgres_changes`` message to every socket joined to the table;
* ``drop`` closes every socket from the server side (the client must reconnect and rejoin).

It records what it was sent (the keys in the URLs, every join) so tests assert on it.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import Server, ServerConnection, serve

PATH = "/realtime/v1/websocket"


@dataclass
class _Joined:
    topic: str
    bindings: list[dict[str, Any]]


@dataclass
class FakeRealtime:
    keys: list[str] = field(default_factory=list)
    joins: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: int = 0
    connections: int = 0
    _server: Server | None = None
    _port: int = 0
    _sockets: dict[ServerConnection, dict[str, _Joined]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(31000))

    @property
    def url(self) -> str:
        """The project URL to give the ``supabase`` client (``http://127.0.0.1:<port>``)."""
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> FakeRealtime:
        self._server = await serve(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def joined(self, schema: str, table: str) -> int:
        """How many open sockets have a channel joined with an INSERT binding on the table."""
        return sum(
            1
            for topics in self._sockets.values()
            for joined in topics.values()
            if any(_matches(b, schema, table) for b in joined.bindings)
        )

    async def insert(
        self, schema: str, table: str, record: dict[str, Any], *, at: str, times: int = 1
    ) -> int:
        """Send an INSERT change (``times`` times) to each joined socket; how many got it."""
        sent = 0
        for ws, topics in list(self._sockets.items()):
            for joined in topics.values():
                ids = [b["id"] for b in joined.bindings if _matches(b, schema, table)]
                if not ids:
                    continue
                message = {
                    "topic": joined.topic,
                    "event": "postgres_changes",
                    "payload": {
                        "data": {
                            "schema": schema,
                            "table": table,
                            "commit_timestamp": at,
                            "type": "INSERT",
                            "errors": None,
                            "columns": [{"name": k, "type": "text"} for k in record],
                            "record": record,
                        },
                        "ids": ids,
                    },
                    "ref": None,
                }
                for _ in range(times):
                    await ws.send(json.dumps(message))
                sent += 1
        return sent

    async def drop(self) -> int:
        """Close every socket from the server side (code 1011); how many were open."""
        sockets = list(self._sockets)
        for ws in sockets:
            await ws.close(code=1011, reason="fake realtime restarting")
        return len(sockets)

    async def stop_listening(self) -> None:
        """Go away (sockets closed, the port refused) until ``listen_again``."""
        assert self._server is not None
        self._port = next(iter(self._server.sockets)).getsockname()[1]
        self._server.close()
        await self._server.wait_closed()

    async def listen_again(self) -> None:
        """Serve again on the same port."""
        self._server = await serve(self._serve, "127.0.0.1", self._port)

    async def _serve(self, ws: ServerConnection) -> None:
        path = urlparse(ws.request.path if ws.request else "")
        if path.path != PATH:
            await ws.close(code=1008, reason="unknown path")
            return
        self.keys.extend(parse_qs(path.query).get("apikey", []))
        self.connections += 1
        topics: dict[str, _Joined] = {}
        self._sockets[ws] = topics
        try:
            async for raw in ws:
                await self._handle(ws, topics, json.loads(raw))
        except Exception:  # a socket dropped mid-send is the client's business
            pass
        finally:
            self._sockets.pop(ws, None)

    async def _handle(
        self, ws: ServerConnection, topics: dict[str, _Joined], message: dict[str, Any]
    ) -> None:
        topic, event, ref = message["topic"], message["event"], message.get("ref")
        if event == "heartbeat":
            self.heartbeats += 1
            await _reply(ws, topic, ref, {})
        elif event == "phx_join":
            payload = message.get("payload") or {}
            self.joins.append({"topic": topic, **payload})
            wanted = (payload.get("config") or {}).get("postgres_changes") or []
            bindings = [{**b, "id": next(self._ids)} for b in wanted]
            topics[topic] = _Joined(topic, bindings)
            await _reply(ws, topic, ref, {"postgres_changes": bindings})
            system = {
                "channel": topic.removeprefix("realtime:"),
                "extension": "postgres_changes",
                "message": "Subscribed to PostgreSQL",
                "status": "ok",
            }
            await ws.send(
                json.dumps({"topic": topic, "event": "system", "payload": system, "ref": None})
            )
        elif event == "phx_leave":
            topics.pop(topic, None)
            await _reply(ws, topic, ref, {})


def _matches(binding: dict[str, Any], schema: str, table: str) -> bool:
    return (
        binding.get("event") in ("INSERT", "*")
        and binding.get("schema", "public") == schema
        and binding.get("table") in (table, None, "*")
    )


async def _reply(ws: ServerConnection, topic: str, ref: Any, response: dict[str, Any]) -> None:
    body = {"status": "ok", "response": response}
    await ws.send(json.dumps({"topic": topic, "event": "phx_reply", "payload": body, "ref": ref}))
