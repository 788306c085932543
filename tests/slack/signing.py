"""Signing inbound requests the way Slack does (v0:timestamp:body, HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

SECRET = "test-signing-secret"


def signature_headers(
    body: str, *, secret: str = SECRET, at: float | None = None
) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


def event_request(payload: dict[str, Any], **kw: Any) -> tuple[str, dict[str, str]]:
    body = json.dumps(payload)
    return body, {"Content-Type": "application/json", **signature_headers(body, **kw)}


def form_request(fields: dict[str, str], **kw: Any) -> tuple[str, dict[str, str]]:
    body = urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return body, {**headers, **signature_headers(body, **kw)}


def interactive_request(payload: dict[str, Any], **kw: Any) -> tuple[str, dict[str, str]]:
    return form_request({"payload": json.dumps(payload)}, **kw)
