"""The inbound gate on its own, with a webhook-style verifier (``sha256=`` over the raw body).

Called as raw ASGI so the test sees how many body chunks the gate pulled: a
refusal on the headers must pull none, an oversized body stops one chunk past
the cap, and every parser failure is a 400 with one log line, no traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import pytest
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.web import build_web_app
from bot.web.inbound import (
    Gate,
    gated,
    hex_digest,
    hmac_sha256_hex,
    same_digest,
    signed_timestamp,
)

SECRET = b"hook-secret"
CHUNK = 64 * 1024


class HookVerifier:
    """``X-Kairos-Timestamp`` + ``X-Kairos-Signature: sha256=<hmac(t.body)>``."""

    def check_headers(self, headers: Headers, now: float) -> None:
        signed_timestamp(headers.get("x-kairos-timestamp"), now)
        hex_digest(headers.get("x-kairos-signature"), prefix="sha256=")

    def check_body(self, headers: Headers, body: bytes) -> None:
        given = hex_digest(headers.get("x-kairos-signature"), prefix="sha256=")
        message = headers["x-kairos-timestamp"].encode() + b"." + body
        same_digest(hmac_sha256_hex(SECRET, message), given)


def parse(_request: Request, body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    return {"event": data["event"]}  # KeyError, TypeError… are the sender's problem


async def handler(_request: Request, data: dict[str, Any]) -> Response:
    return JSONResponse({"got": data["event"]})


APP = build_web_app(
    [
        Route(
            "/hooks/x",
            gated(
                Gate(name="hook", parse=parse, verifier=HookVerifier(), max_bytes=CHUNK * 4),
                handler,
            ),
            methods=["POST"],
        )
    ]
)


def signed(body: bytes, *, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    digest = hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"x-kairos-timestamp": timestamp, "x-kairos-signature": f"sha256={digest}"}


async def call(headers: dict[str, str], chunks: list[bytes]) -> tuple[int, int]:
    """(status, body chunks the app pulled) for a POST of ``chunks``."""
    status, pulled, _ = await answer(headers, chunks)
    return status, pulled


async def answer(headers: dict[str, str], chunks: list[bytes]) -> tuple[int, int, Headers]:
    """(status, body chunks the app pulled, response headers) for a POST of ``chunks``."""
    pulled = 0
    status = 0
    sent = Headers()

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {
                "type": "http.request",
                "body": chunks[pulled - 1],
                "more_body": pulled < len(chunks),
            }
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, sent
        if message["type"] == "http.response.start":
            status = message["status"]
            sent = Headers(raw=message["headers"])

    scope = {
        "type": "http", "method": "POST", "path": "/hooks/x", "raw_path": b"/hooks/x",
        "query_string": b"", "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000), "server": ("kairos", 80), "scheme": "http",
        "http_version": "1.1", "root_path": "",
    }  # fmt: skip
    await APP(scope, receive, send)
    return status, pulled, sent


async def test_headers_are_refused_before_a_byte_of_the_body_is_read() -> None:
    body = [b"{" * CHUNK] * 100
    good = signed(b"".join(body))
    cases = {
        "unsigned": {},
        "no signature": {"x-kairos-timestamp": good["x-kairos-timestamp"]},
        "text timestamp": good | {"x-kairos-timestamp": "now"},
        "stale": good | {"x-kairos-timestamp": str(int(time.time()) - 3600)},
        "bad signature format": good | {"x-kairos-signature": "sha1=abc"},
        "uppercase hex": good | {"x-kairos-signature": good["x-kairos-signature"].upper()},
    }
    for name, headers in cases.items():
        assert await call(headers, body) == (401, 0), name
    too_long = good | {"content-length": str(100 * CHUNK)}
    assert await call(too_long, body) == (413, 0)
    assert await call(good | {"content-length": "12abc"}, body) == (400, 0)


async def test_an_undeclared_oversized_body_stops_one_chunk_past_the_cap() -> None:
    body = [b"x" * CHUNK] * 100
    assert await call(signed(b"".join(body)), body) == (413, 5)


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b"{not json", b"[" * 100_000, b'{"other": 1}', b'"text"', b"\xff\xfe", b"null"],
)
async def test_malformed_signed_bodies_are_400_with_one_line_and_no_traceback(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = await call(signed(body), [body])
    assert status == 400
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert caplog.records[0].exc_info is None and "Traceback" not in caplog.text
    assert "hook: refused POST /hooks/x from 127.0.0.1: 400 malformed body" in caplog.text


async def test_a_signed_good_body_reaches_the_handler_and_a_tampered_one_does_not() -> None:
    body = json.dumps({"event": "deploy"}).encode()
    assert (await call(signed(body), [body]))[0] == 200
    assert (await call(signed(body), [body.replace(b"deploy", b"delete")]))[0] == 401


async def test_a_small_refused_body_is_read_to_its_end_so_the_answer_is_not_reset() -> None:
    """Closing with a client's body unread makes the kernel reset the connection, and
    the client can lose the 401 with it: a refused body declared within the cap is read
    (after the decision) and the connection kept; an undeclared or oversized one is not."""
    body = [b'{"event":', b' "deploy"}']
    size = str(sum(map(len, body)))
    unsigned = {"content-length": size}
    status, pulled, sent = await answer(unsigned, body)
    assert (status, pulled) == (401, 2)
    assert "connection" not in sent
    forged = signed(b"other") | {"content-length": size}
    status, pulled, sent = await answer(forged, body)
    assert (status, pulled) == (401, 2) and "connection" not in sent
    status, pulled, sent = await answer({}, body)  # chunked: never read
    assert (status, pulled, sent.get("connection")) == (401, 0, "close")
    big = [b"x" * CHUNK] * 100
    status, pulled, sent = await answer({"content-length": str(100 * CHUNK)}, big)
    assert (status, pulled, sent.get("connection")) == (401, 0, "close")
