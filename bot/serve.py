"""``kairos run``: the main job — scheduler, chat surfaces and the local web server."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sys
from collections.abc import Generator
from typing import Protocol

import uvicorn

from bot.app import Kairos
from bot.console import ConsoleChat, console_owner
from bot.settings import Settings
from bot.web import build_web_app, health_routes, metrics_routes
from bot.web.hooks import hook_routes
from core.enums import Platform
from core.errors import InvalidInput

log = logging.getLogger(__name__)


class _Surface(Protocol):
    """A chat surface ``kairos run`` starts and stops (Slack, Discord)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: Kairos owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def settle_heap() -> None:
    """Take what start-up built (modules, models, the command tree) out of the collector.

    A full collection walks every tracked object; with Kairos's libraries
    loaded that took 0.1–0.5 s here, and when it struck during a burst of
    interactions (or chat commands) every first response waited for it. Frozen objects are never
    scanned again; garbage is collected first, so nothing that is garbage now
    is kept.
    """
    gc.collect()
    gc.freeze()


def _listen(host: str, port: int) -> socket.socket:
    """The web server's listening socket, or a clear error when the port is taken."""
    try:
        return socket.create_server((host, port))
    except OSError as exc:
        raise InvalidInput(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
            hint="Stop the program using that port, or set KAIROS_HTTP_PORT to a free one.",
        ) from exc


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def serve(
    settings: Settings, *, console: bool | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run Kairos until ``stop`` is set, a signal arrives, or the console chat ends.

    ``console`` defaults to whether standard input is a terminal: interactive
    people get the chat, a service manager gets a quiet daemon.
    """
    from bot.discord import discord_configured
    from bot.slack import slack_configured

    stop = stop or asyncio.Event()
    _on_signals(stop)
    interactive = sys.stdin.isatty() if console is None else console
    listener = _listen(settings.http_host, settings.http_port)  # fail fast, before any work
    kairos = await Kairos.open(settings)
    surfaces: list[_Surface] = []
    routes = health_routes(kairos.health, ready=kairos.readiness) + metrics_routes(kairos.metrics)
    routes += hook_routes(kairos.events.webhooks, max_bytes=settings.http_max_body_bytes)
    chat = ConsoleChat(conversation=kairos.conversation, user=settings.console_user)
    await console_owner(
        kairos.store, user=settings.console_user, timezone=settings.default_timezone
    )
    kairos.add_chat(Platform.CONSOLE, chat)
    if slack_configured(settings):
        slack = kairos.add_slack()
        routes += slack.routes()
        surfaces.append(slack)
    if discord_configured(settings):
        surfaces.append(kairos.add_discord())
    server = _Server(
        uvicorn.Config(
            build_web_app(routes),
            host=settings.http_host,
            port=settings.http_port,
            log_level=settings.log_level.lower(),
            log_config=None,  # uvicorn logs through Kairos's handlers (text or JSON)
            lifespan="off",
            access_log=False,
        )
    )
    background: list[asyncio.Task[None]] = []
    try:
        await kairos.start()
        background.append(asyncio.create_task(server.serve(sockets=[listener]), name="kairos-http"))
        for surface in surfaces:
            await surface.start()
        settle_heap()
        host, port = listener.getsockname()[:2]
        log.info("Kairos is running: http://%s:%s/healthz", host, port)
        if interactive:
            conversation = asyncio.create_task(chat.run(stop), name="kairos-console")
            conversation.add_done_callback(lambda _t: stop.set())
            background.append(conversation)
        elif console is None:  # chosen for them: say so, or piped input seems ignored
            log.info(
                "console chat off: standard input is not a terminal "
                "(use --console to open it anyway, or 'kairos chat')"
            )
        await stop.wait()
    finally:
        server.should_exit = True
        for surface in surfaces:
            await surface.stop()
        for task in background:
            if task.get_name() == "kairos-console":
                task.cancel()  # it may sit in a blocking read of stdin
        await asyncio.gather(*background, return_exceptions=True)
        await kairos.close()
        listener.close()
