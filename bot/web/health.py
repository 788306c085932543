"""Operations endpoints: ``/healthz`` (alive), ``/readyz`` (ready for work), ``/metrics``.

``/healthz`` says the process answers and the database responds; ``/readyz``
says this replica should get traffic and run work: migrations applied, the
database reachable, the scheduler started — 503 with the reasons otherwise.
``/metrics`` is Prometheus's text format (``bot.metrics.PrometheusMetrics``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import __version__
from bot.metrics import PrometheusMetrics

HealthCheck = Callable[[], Awaitable[dict[str, object]]]
#: Why this process is not ready (empty: ready).
ReadyCheck = Callable[[], Awaitable[list[str]]]


def health_routes(check: HealthCheck, *, ready: ReadyCheck | None = None) -> list[BaseRoute]:
    """``GET /healthz`` (200 with component states, else 503) and ``GET /readyz``."""

    async def healthz(_request: Request) -> JSONResponse:
        try:
            details = await check()
        except Exception as exc:  # a failing dependency is reported, not raised
            return JSONResponse(
                {"status": "error", "error": type(exc).__name__, "version": __version__},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "version": __version__, **details})

    async def readyz(_request: Request) -> JSONResponse:
        try:
            reasons = await ready() if ready is not None else []
        except Exception as exc:
            reasons = [f"readiness check failed: {type(exc).__name__}"]
        if reasons:
            return JSONResponse(
                {"status": "not ready", "reasons": reasons, "version": __version__},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "version": __version__})

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]


def metrics_routes(metrics: PrometheusMetrics) -> list[BaseRoute]:
    """``GET /metrics`` in Prometheus's text exposition format."""

    async def endpoint(_request: Request) -> Response:
        return Response(await metrics.exposition(), media_type=metrics.content_type)

    return [Route("/metrics", endpoint, methods=["GET"])]
