"""``POST /hooks/{name}``: signed webhooks into durable events.

Checks run in the inbound gate's order: signature headers (401), the raw body
under the size cap (413), the hook (404), the HMAC over the raw bytes (401), the
JSON (400) — then the event is committed and only then answered 202 (503 if it
could not be: the sender retries). Refusals
are one log line each (``inbound.refuse``), never the body, never a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.web.inbound import MAX_BODY_BYTES, Refused, read_body, refuse
from core.events.signing import BadSignature, check_headers
from core.events.webhooks import WebhookService


def hook_routes(
    hooks: WebhookService,
    *,
    max_bytes: int = MAX_BODY_BYTES,
    clock: Callable[[], float] = time.time,
) -> list[BaseRoute]:
    async def endpoint(request: Request) -> Response:
        name = str(request.path_params["name"])
        headers = dict(request.headers)  # lower-case names; read once
        try:
            try:
                check_headers(headers, clock())
            except BadSignature as exc:
                raise Refused(401, str(exc)) from None
            body = await read_body(request, limit=max_bytes)
            try:
                secret = await hooks.secret_of(name)
            except Exception as exc:
                raise Refused(
                    503, f"webhooks are unavailable ({type(exc).__name__}); retry later"
                ) from None
            if secret is None:
                raise Refused(404, "no such webhook")
            try:
                event_id, duplicate = await hooks.accept(
                    name, secret=secret, headers=headers, body=body, now=clock()
                )
            except BadSignature as exc:
                raise Refused(401, str(exc)) from None
            except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, too deep
                raise Refused(400, f"malformed body ({type(exc).__name__})") from None
            except Exception as exc:  # not stored, so not acknowledged: the sender retries
                raise Refused(
                    503, f"the event could not be stored ({type(exc).__name__}); retry later"
                ) from None
        except Refused as refusal:
            return await refuse("webhooks", request, refusal, limit=max_bytes)
        return JSONResponse({"event_id": event_id, "duplicate": duplicate}, status_code=202)

    return [Route("/hooks/{name}", endpoint, methods=["POST"])]
