"""Kairos's own ASGI web app (Starlette), served by ``kairos run``.

Routes are contributed by the surfaces that need them (health, Slack events,
OAuth); ``build_web_app`` composes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot import __version__

HealthCheck = Callable[[], Awaitable[dict[str, object]]]


def health_routes(check: HealthCheck) -> list[BaseRoute]:
    """``GET /healthz``: 200 with component states when healthy, else 503."""

    async def healthz(_request: Request) -> JSONResponse:
        try:
            details = await check()
        except Exception as exc:  # a failing dependency is reported, not raised
            return JSONResponse(
                {"status": "error", "error": type(exc).__name__, "version": __version__},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "version": __version__, **details})

    return [Route("/healthz", healthz, methods=["GET"])]


def build_web_app(routes: Sequence[BaseRoute]) -> Starlette:
    return Starlette(routes=list(routes))
