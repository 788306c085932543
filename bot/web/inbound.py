"""The gate every inbound HTTP request passes before Kairos reads or parses it.

Order matters, and is the point of this module (DESIGN: "inbound requests are
verified on raw bytes before parsing, with a size cap"):

1. the headers: a declared ``Content-Length`` over the cap → 413, a missing or
   malformed signature/timestamp, or a stale timestamp → 401 — before a single
   byte of the body is read;
2. the body, read in chunks and abandoned (413) as soon as it passes the cap,
   so a 100 MB post costs at most the cap in memory;
3. the signature over those raw bytes → 401;
4. parsing, which may raise anything (``JSONDecodeError``, ``RecursionError``,
   ``KeyError``…) → 400.

A refusal is one log line (method, path, status, reason) — never the body,
which carries people's words and Slack's ``response_url``, and never a traceback.
Once refused, a body declared within the cap is read to its end and dropped
(never parsed) so the answer is not lost to a connection reset; any other
refusal closes the connection.
Each surface (Slack events, webhooks, Discord interactions) supplies its own
``Verifier`` and parser; ``gated`` turns them into a Starlette endpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)

#: Slack's payloads are a few KiB; a webhook's rarely more than a few hundred.
MAX_BODY_BYTES = 1024 * 1024
#: How far a signed timestamp may be from now (Slack's and GitHub's replay window).
REPLAY_WINDOW_SECONDS = 300

T = TypeVar("T")


class Refused(Exception):
    """The request is refused with ``status``; ``reason`` is safe to log and to send back."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Verifier(Protocol):
    """Checks a request's signature: headers first (cheap), then the raw body."""

    def check_headers(self, headers: Headers, now: float) -> None:
        """Raise ``Refused(401)`` when the signature headers are missing, malformed or stale."""
        ...

    def check_body(self, headers: Headers, body: bytes) -> None:
        """Raise ``Refused(401)`` when the signature does not match ``body``."""
        ...


def hmac_sha256_hex(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_timestamp(
    value: str | None, now: float, *, window: float = REPLAY_WINDOW_SECONDS
) -> str:
    """A signature timestamp as sent, once it is plain digits and within the replay window."""
    if not value:
        raise Refused(401, "unsigned request (no timestamp)")
    if not (value.isascii() and value.isdigit() and len(value) <= 12):
        raise Refused(401, "malformed signature timestamp")
    if abs(now - int(value)) > window:
        raise Refused(401, "stale signature timestamp")
    return value


def hex_digest(value: str | None, *, prefix: str) -> str:
    """The hex digest after ``prefix`` (``v0=``, ``sha256=``), once it looks like SHA-256."""
    if not value:
        raise Refused(401, "unsigned request (no signature)")
    digest = value[len(prefix) :] if value.startswith(prefix) else ""
    if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        raise Refused(401, "malformed signature")
    return digest


def same_digest(expected: str, given: str) -> None:
    if not hmac.compare_digest(expected, given):
        raise Refused(401, "bad signature")


async def read_body(request: Request, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, read chunk by chunk and refused (413) the moment it passes ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise Refused(400, "malformed Content-Length")
        if int(declared) > limit:
            raise Refused(413, f"body of {declared} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class Gate(Generic[T]):
    """How one endpoint admits requests: who signs them, how big, how they parse.

    ``verifier`` ``None`` means unsigned (e.g. the OAuth redirect, which
    carries its own single-use state); ``parse`` gets the request and the raw
    body and may raise anything — that is a 400.
    """

    name: str
    parse: Callable[[Request, bytes], T]
    verifier: Verifier | None = None
    max_bytes: int = MAX_BODY_BYTES
    clock: Callable[[], float] = time.time

    async def admit(self, request: Request) -> T:
        """The parsed request, or ``Refused`` (401, 413, 400) — in that order of checks."""
        if self.verifier is not None:
            self.verifier.check_headers(request.headers, self.clock())
        body = await read_body(request, limit=self.max_bytes)
        if self.verifier is not None:
            self.verifier.check_body(request.headers, body)
        try:
            return self.parse(request, body)
        except Refused:
            raise
        except Exception as exc:  # any parser failure is the sender's malformed body
            raise Refused(400, f"malformed body ({type(exc).__name__})") from None


Handler = Callable[[Request, T], Awaitable[Response]]


def gated(gate: Gate[T], handler: Handler[T]) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint that runs ``handler`` only for what ``gate`` admits."""

    async def endpoint(request: Request) -> Response:
        try:
            admitted = await gate.admit(request)
        except Refused as refusal:
            return await refuse(gate.name, request, refusal, limit=gate.max_bytes)
        return await handler(request, admitted)

    return endpoint


async def drained(request: Request, limit: int) -> bool:
    """Whether a refused request's body has been read to its end (reading it now if small).

    A server that answers and closes while the client's body still sits unread
    in the socket makes the kernel reset the connection, and the client may
    lose the answer with it. A body declared within the cap is read and dropped
    first, so the refusal arrives whole and the connection stays usable. An
    undeclared (chunked) or bigger one is never read — refusing before reading
    is the point of the gate — and the connection closes.
    """
    declared = request.headers.get("content-length")
    if declared is None or not (declared.isascii() and declared.isdigit()):
        return False
    if int(declared) > limit:
        return False
    try:
        async for _chunk in request.stream():
            pass
    except RuntimeError:  # already read whole by the gate (Starlette: "Stream consumed")
        return True
    except ClientDisconnect:
        return False
    return True


async def refuse(
    name: str, request: Request, refusal: Refused, *, limit: int = MAX_BODY_BYTES
) -> Response:
    """The one log line and the response for a refused request.

    The connection stays open when the request's body could be read to its end
    (within ``limit``), and closes when it could not (see ``drained``).
    """
    client = request.client.host if request.client else "?"
    log.warning(
        "%s: refused %s %s from %s: %s %s",
        name,
        request.method,
        request.url.path,
        client,
        refusal.status,
        refusal.reason,
    )
    keep_alive = refusal.status != 413 and await drained(request, limit)
    # Closing tells the server not to drain a body it will never read.
    headers = {} if keep_alive else {"Connection": "close"}
    return JSONResponse({"error": refusal.reason}, status_code=refusal.status, headers=headers)
