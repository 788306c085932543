"""Webhooks: named sources with their own secret, created, listed and rotated by admins.

The secret is returned once (to be shown privately to whoever asked) and
stored so that signatures can be verified; it is never logged. ``receive``
verifies a request's signature on the raw body, parses it and commits the
event before the caller answers the sender.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.enums import Role
from core.errors import Conflict, NotConfigured, NotFound, PermissionDenied
from core.events.delivery import EventBus
from core.events.model import EventIn, SourceKind, source_name
from core.events.signing import KAIROS_HEADER, new_secret, verify
from core.models import Member
from core.models_events import EventSource
from core.ports import Clock
from core.store.events import EventStore

#: Headers a sender may use to name a delivery (the event's dedupe key).
_DELIVERY_HEADERS = ("x-github-delivery", "x-kairos-delivery", "idempotency-key")
_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
#: How long a verified hook's secret is reused without reading it again.
SECRET_TTL_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook as listed: never its secret."""

    name: str
    path: str
    created_at: datetime
    rotated_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A webhook and its secret, returned once by ``create`` and ``rotate``."""

    hook: Webhook
    secret: str


def _hook(source: EventSource) -> Webhook:
    return Webhook(source.name, f"/hooks/{source.name}", source.created_at, source.updated_at)


def parse_payload(body: bytes) -> Any:
    """The JSON body (an empty body is ``{}``); anything else raises ``ValueError``."""
    if not body.strip():
        return {}
    return json.loads(body)


def dedupe_key(headers: Mapping[str, str], body: bytes) -> str:
    """The sender's delivery id, or the Kairos signature (unique per timestamp and body).

    A GitHub-form request without a delivery id gets a fresh key: that form has no
    timestamp, so two identical bodies may be two genuine events.
    """
    for name in _DELIVERY_HEADERS:
        value = headers.get(name)
        if value:
            return f"{name}:{value[:200]}"
    signature = headers.get(KAIROS_HEADER)
    if signature:
        return "sig:" + hashlib.sha256(signature.encode()).hexdigest()
    return f"uuid:{uuid.uuid4()}"


class WebhookService:
    """Create, list and rotate webhooks; receive their signed requests."""

    def __init__(self, *, store: EventStore, clock: Clock, bus: EventBus | None = None) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._secrets: dict[str, tuple[str, float]] = {}
        self._loading: dict[str, asyncio.Future[str | None]] = {}

    @staticmethod
    def _may_manage(actor: Member | None) -> None:
        if actor is not None and Role(actor.role) not in _MANAGERS:
            raise PermissionDenied(
                "Only a workspace owner or admin can create or rotate webhooks.",
                hint="Ask an admin to do it.",
            )

    async def create(self, name: str, *, actor: Member | None = None) -> IssuedSecret:
        """A new webhook and its secret (``actor`` ``None``: the operator, via the CLI)."""
        self._may_manage(actor)
        clean = source_name(name)
        now = self._clock.now()
        secret = new_secret()
        added = await self._store.add_source(
            EventSource(
                kind=SourceKind.WEBHOOK.value,
                name=clean,
                secret=secret,
                workspace_id=actor.workspace_id if actor else None,
                created_by=actor.id if actor else None,
                created_at=now,
                updated_at=now,
            )
        )
        if added is None:
            raise Conflict(
                f"A webhook called {clean!r} already exists.",
                hint=f"Rotate its secret instead ('rotate the {clean} webhook secret').",
            )
        return IssuedSecret(_hook(added), secret)

    async def rotate(self, name: str, *, actor: Member | None = None) -> IssuedSecret:
        """A new secret for the webhook; the old one stops working at once."""
        self._may_manage(actor)
        clean = source_name(name)
        secret = new_secret()
        now = self._clock.now()
        self._secrets.pop(clean, None)
        if not await self._store.update_source(SourceKind.WEBHOOK, clean, now=now, secret=secret):
            raise NotFound(f"There is no webhook called {clean!r}.", hint="List webhooks.")
        source = await self._store.source(SourceKind.WEBHOOK, clean)
        assert source is not None
        return IssuedSecret(_hook(source), secret)

    async def list(self) -> list[Webhook]:
        return [_hook(s) for s in await self._store.sources(SourceKind.WEBHOOK)]

    async def secret_of(self, name: str) -> str | None:
        """The hook's secret, or ``None`` when there is no such hook.

        Kept for ``SECRET_TTL_SECONDS`` (a rotation here clears it at once; one on
        another replica is seen within that time). Concurrent requests share one
        read: a burst after expiry costs one query, not one per request.
        """
        cached = self._secrets.get(name)
        if cached is not None and time.monotonic() - cached[1] < SECRET_TTL_SECONDS:
            return cached[0]
        loading = self._loading.get(name)
        if loading is None:
            loading = asyncio.ensure_future(self._load(name))
            self._loading[name] = loading
            loading.add_done_callback(lambda _t: self._loading.pop(name, None))
        return await asyncio.shield(loading)

    async def _load(self, name: str) -> str | None:
        read_at = time.monotonic()
        source = await self._store.source(SourceKind.WEBHOOK, name)
        secret = None if source is None else source.secret
        if secret is not None:
            self._secrets[name] = (secret, read_at)
        return secret

    async def accept(
        self, name: str, *, secret: str, headers: dict[str, str], body: bytes, now: float
    ) -> tuple[int | None, bool]:
        """Verify, parse and durably record one request: ``(event id, duplicate)``.

        Raises ``signing.BadSignature`` (401) or ``ValueError`` (400, malformed body).
        """
        if self._bus is None:
            raise NotConfigured("This webhook service only manages hooks (no event bus).")
        verify(secret, headers, body, now)
        payload = parse_payload(body)
        event = EventIn(
            SourceKind.WEBHOOK, name, dedupe_key(headers, body), payload, self._clock.now()
        )
        event_id = await self._bus.record(event)
        return event_id, event_id is None
