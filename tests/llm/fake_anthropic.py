"""A fake Anthropic Messages API on a local port: the real ``anthropic`` client talks to it.

Answers ``POST /v1/messages`` from a script of responses, one per request, in
order: a tool call (``tool``), text (``text``), an HTTP error status (``status``:
429 rate limited, 529 overloaded…), each optionally after a ``delay`` in
seconds. When the script runs out it asks ``responder`` (a function of the
request, for answers that depend on what was sent), then answers with
``default`` (``None``: 500).
Every request body and its headers are recorded, so tests assert on what was
actually sent (``cache_control`` blocks, tools, the model, retries).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Answer:
    """One scripted response."""

    tool: dict[str, Any] | None = None  # {"name": ..., "input": {...}}
    tools: list[dict[str, Any]] | None = None  # several tool_use blocks
    text: str | None = None
    status: int = 200
    delay: float = 0.0
    input_tokens: int = 100
    output_tokens: int = 20
    cache_read: int = 0
    cache_write: int = 0


def said(**fields: Any) -> Answer:
    """A tool call answering with a ``Said`` object (the parser's response model)."""
    return Answer(tool={"name": "Said", "input": fields})


@dataclass
class Request:
    body: dict[str, Any]
    headers: dict[str, str]

    def system_blocks(self) -> list[dict[str, Any]]:
        system = self.body.get("system") or []
        return [{"type": "text", "text": system}] if isinstance(system, str) else list(system)

    def user_text(self) -> str:
        first = self.body["messages"][0]["content"]
        if isinstance(first, str):
            return first
        return "".join(block.get("text", "") for block in first)


@dataclass
class FakeAnthropic:
    script: list[Answer] = field(default_factory=list)
    default: Answer | None = None
    responder: Callable[[Request], Answer | None] | None = None
    requests: list[Request] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def then(self, *answers: Answer) -> FakeAnthropic:
        self.script.extend(answers)
        return self

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        recorded = Request(body=body, headers={k.lower(): v for k, v in request.headers.items()})
        self.requests.append(recorded)
        answer = self.script.pop(0) if self.script else None
        if answer is None and self.responder is not None:
            answer = self.responder(recorded)
        answer = answer or self.default
        if answer is None:
            return _error(500, "api_error", "the fake has no answer scripted")
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.status != 200:
            kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(
                answer.status, "api_error"
            )
            return _error(answer.status, kind, "scripted failure")
        content: list[dict[str, Any]] = []
        if answer.text is not None:
            content.append({"type": "text", "text": answer.text})
        for tool in ([answer.tool] if answer.tool else []) + (answer.tools or []):
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{next(self._ids)}",
                    "name": tool["name"],
                    "input": tool["input"],
                }
            )
        return web.json_response(
            {
                "id": f"msg_{next(self._ids)}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "claude-test"),
                "content": content,
                "stop_reason": "tool_use" if answer.tool or answer.tools else "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": answer.input_tokens,
                    "output_tokens": answer.output_tokens,
                    "cache_read_input_tokens": answer.cache_read,
                    "cache_creation_input_tokens": answer.cache_write,
                },
            }
        )


def _error(status: int, kind: str, message: str) -> web.Response:
    headers = {"retry-after": "0"} if status in (429, 529) else {}
    return web.json_response(
        {"type": "error", "error": {"type": kind, "message": message}},
        status=status,
        headers=headers,
    )


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[FakeAnthropic]:
    """A started fake (its ``base_url`` set), stopped on leaving."""
    server = FakeAnthropic()
    server.base_url = await server.start()  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        await server.stop()
