"""Kairos's own ASGI web app (Starlette), served by ``kairos run``.

Routes are contributed by the surfaces that need them (``health``: health,
readiness and metrics; Slack events and OAuth from ``bot.slack``);
``build_web_app`` composes them. Every inbound endpoint that takes a body goes
through ``inbound.Gate`` (size cap, signature on raw bytes, then parsing).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.web.health import HealthCheck, ReadyCheck, health_routes, metrics_routes

__all__ = ["HealthCheck", "ReadyCheck", "build_web_app", "health_routes", "metrics_routes"]


def build_web_app(routes: Sequence[BaseRoute]) -> Starlette:
    return Starlette(routes=list(routes))
