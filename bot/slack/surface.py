"""``SlackSurface``: Kairos in Slack, assembled from settings (the factory).

The composition root calls ``build_slack(...)`` and then mounts ``routes()`` on
Kairos's web app (HTTP mode, OAuth) and/or awaits ``start()``/``stop()``
(Socket Mode, when an app-level token is configured). ``adapter`` is the
``ChatAdapter`` reminders are posted through (register it with
``bot.notify.ChatNotifier`` for ``Platform.SLACK``).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.settings import Settings
from bot.slack import contract
from bot.slack.adapter import Clients, SlackAdapter, TaskReader, web_client
from bot.slack.app import Listeners, build_bolt_app
from bot.slack.forms import TaskForms
from bot.slack.home import HomeSource, SpeakerLanguages
from bot.slack.inbox import CommandInbox
from bot.slack.installation import SqlInstallationStore, SqlOAuthStateStore
from bot.slack.people import MemberRegistry, Profiles
from bot.slack.taskforms import ServiceTaskForms, StoreHome
from bot.slack.transport import dispatch, slack_gate, unsigned_gate
from bot.web.inbound import MAX_BODY_BYTES, gated
from core.errors import NotConfigured
from core.ports import Clock, Conversation, IntentParser, Metrics
from core.services.tasks import TaskService
from core.store.chat import ChatStateStore
from core.store.inbox import InboxStore
from core.store.runs import RunStore

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def slack_configured(settings: Settings) -> bool:
    """True when there is enough configuration to run the Slack surface."""
    has_auth = settings.slack_bot_token is not None or (
        settings.slack_client_id is not None and settings.slack_client_secret is not None
    )
    has_transport = (
        settings.slack_signing_secret is not None or settings.slack_app_token is not None
    )
    return has_auth and has_transport


class SlackSurface:
    """The bolt app plus its transports; see the module docstring."""

    def __init__(
        self,
        *,
        app: AsyncApp,
        adapter: SlackAdapter,
        listeners: Listeners,
        app_token: str | None,
        signing_secret: str | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        socket_client: Any = None,
    ) -> None:
        self.app = app
        self.adapter = adapter
        self.listeners = listeners
        self._app_token = app_token
        self._socket_client = socket_client
        self._socket: AsyncSocketModeHandler | None = None
        self._signing_secret = signing_secret
        self._max_body_bytes = max_body_bytes

    @property
    def socket_mode(self) -> bool:
        return self._app_token is not None

    def routes(self) -> list[BaseRoute]:
        """Starlette routes: ``POST /slack/events``, and the OAuth pages when enabled.

        Every request passes ``bot.slack.transport``'s gate first (size cap,
        signature on the raw bytes, shape); without a signing secret there is
        no events endpoint at all (Socket Mode needs none).
        """
        app = self.app

        async def events(_request: Request, bolt: AsyncBoltRequest) -> Response:
            return await dispatch(app, bolt)

        routes: list[BaseRoute] = []
        if self._signing_secret:
            gate = slack_gate(self._signing_secret, max_bytes=self._max_body_bytes)
            endpoint = gated(gate, events)
            routes.append(Route(EVENTS_PATH, endpoint, methods=["POST"]))
        flow = app.oauth_flow
        if flow is not None:

            async def install(_request: Request, bolt: AsyncBoltRequest) -> Response:
                return to_starlette_response(await flow.handle_installation(bolt))

            async def redirect(_request: Request, bolt: AsyncBoltRequest) -> Response:
                return to_starlette_response(await flow.handle_callback(bolt))

            pages = unsigned_gate(max_bytes=self._max_body_bytes)
            routes += [
                Route(INSTALL_PATH, gated(pages, install), methods=["GET"]),
                Route(REDIRECT_PATH, gated(pages, redirect), methods=["GET"]),
            ]
        return routes

    async def start(self) -> None:
        """Start recovering dead processes' slash commands; connect over Socket Mode
        (when an app-level token is configured)."""
        inbox = self.listeners.inbox
        if inbox is not None:
            inbox.start(self.listeners.recover)
        if self._app_token is None or self._socket is not None:
            return
        self._socket = AsyncSocketModeHandler(
            self.app, self._app_token, web_client=self._socket_client
        )
        await self._socket.connect_async()  # type: ignore[no-untyped-call]
        log.info("Slack Socket Mode connected")

    async def stop(self) -> None:
        if self.listeners.inbox is not None:
            await self.listeners.inbox.stop()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        await self.adapter.clients.close()


def build_slack(
    *,
    settings: Settings,
    conversation: Conversation,
    store: Any,
    clock: Clock,
    tasks: TaskService | None = None,
    parser: IntentParser | None = None,
    runs: RunStore | None = None,
    forms: TaskForms | None = None,
    home: HomeSource | None = None,
    languages: SpeakerLanguages | None = None,
    chat_state: ChatStateStore | None = None,
    metrics: Metrics | None = None,
) -> SlackSurface:
    """Wire the Slack surface from ``settings``.

    ``metrics`` counts every Web API call Kairos makes (``Metrics.chat_call``).

    ``store`` is the ``SqlStore`` (tasks, workspaces, members); ``chat_state``
    defaults to a ``ChatStateStore`` on the same database. With ``tasks`` (the
    ``TaskService``) and ``parser`` the Edit modal and the message shortcut work
    (``ServiceTaskForms``); with ``runs`` (the ``RunStore``) the App Home shows
    tasks, reminders and runs (``StoreHome``), in the language each person last wrote
    in when ``languages`` knows it. ``forms``/``home`` override those.

    Single-workspace mode when ``KAIROS_SLACK_BOT_TOKEN`` is set, else OAuth
    with ``KAIROS_SLACK_CLIENT_ID``/``_SECRET``; Socket Mode when
    ``KAIROS_SLACK_APP_TOKEN`` is set, HTTP (``routes()``) otherwise.
    """
    if not slack_configured(settings):
        raise NotConfigured(
            "Slack is not configured.",
            hint="Set KAIROS_SLACK_BOT_TOKEN and KAIROS_SLACK_SIGNING_SECRET (or the OAuth "
            "client id/secret, or KAIROS_SLACK_APP_TOKEN for Socket Mode); see docs/slack.md.",
        )
    state = chat_state or (store if isinstance(store, ChatStateStore) else ChatStateStore(store.db))
    token = _secret(settings.slack_bot_token)
    base_url = settings.slack_api_url
    oauth: AsyncOAuthSettings | None = None
    installations: SqlInstallationStore | None = None
    if token is None:
        installations = SqlInstallationStore(state)
        oauth = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=_secret(settings.slack_client_secret),
            scopes=sorted(contract.needed_scopes()),
            installation_store=installations,
            installation_store_bot_only=True,
            state_store=SqlOAuthStateStore(state, clock=clock),
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
        )
    clients = Clients(
        base_url=base_url, token=token, installations=installations, clock=clock, metrics=metrics
    )
    registry: MemberRegistry | None = store if hasattr(store, "ensure_member") else None
    profiles = Profiles(registry=registry, clock=clock, default_timezone=settings.default_timezone)
    if forms is None and tasks is not None and parser is not None:
        forms = ServiceTaskForms(service=tasks, store=store, parser=parser, clock=clock)
    if home is None and runs is not None:
        home = StoreHome(store=store, runs=runs, clock=clock, languages=languages)
    reader: TaskReader = store
    adapter = SlackAdapter(clients=clients, store=reader, clock=clock)
    listeners = Listeners(
        conversation=conversation,
        adapter=adapter,
        profiles=profiles,
        forms=forms,
        home=home,
        chat_state=state,
        clients=clients,
        clock=clock,
        default_timezone=settings.default_timezone,
        inbox=CommandInbox(store=InboxStore(state.db), clock=clock),
    )
    signing = _secret(settings.slack_signing_secret)
    app = build_bolt_app(
        listeners=listeners,
        signing_secret=signing or "",
        # bolt copies base URL and retry handlers from this client per request:
        # an unpaced one that waits out 429s itself (what Kairos posts through
        # the adapter is paced by ``clients``).
        client=web_client(base_url=base_url, token=token),
        oauth_settings=oauth,
    )
    app_token = _secret(settings.slack_app_token)
    return SlackSurface(
        app=app,
        adapter=adapter,
        listeners=listeners,
        app_token=app_token,
        signing_secret=signing,
        max_body_bytes=settings.http_max_body_bytes,
        socket_client=web_client(base_url=base_url, token=token) if app_token else None,
    )
