"""Webhook signatures: HMAC-SHA256 over the raw body, in GitHub's and Kairos's forms.

* ``X-Hub-Signature-256: sha256=<hex>`` — GitHub's form, HMAC of the body;
* ``X-Kairos-Signature: t=<unix seconds>,v1=<hex>`` — HMAC of ``"<t>." + body``;
  the timestamp must lie within the replay window.

Pure functions: the HTTP edge (``bot.web.hooks``) maps ``BadSignature`` to 401.
Comparisons are constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

GITHUB_HEADER = "x-hub-signature-256"
KAIROS_HEADER = "x-kairos-signature"
#: How far a Kairos-signed timestamp may be from now, either way.
REPLAY_WINDOW_SECONDS = 300


class BadSignature(Exception):
    """The request's signature is missing, malformed, stale or wrong (safe to log)."""


def new_secret() -> str:
    """A fresh webhook secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def digest(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def kairos_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Kairos-Signature`` value a sender puts on ``body`` at ``timestamp``."""
    return f"t={timestamp},v1={digest(secret, f'{timestamp}.'.encode() + body)}"


def github_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub puts on ``body``."""
    return f"sha256={digest(secret, body)}"


def _hex(value: str) -> str:
    if len(value) != 64 or not all(c in "0123456789abcdef" for c in value):
        raise BadSignature("malformed signature")
    return value


def _timestamp(value: str, now: float) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 12):
        raise BadSignature("malformed signature timestamp")
    if abs(now - int(value)) > REPLAY_WINDOW_SECONDS:
        raise BadSignature("stale signature timestamp (outside the 5-minute window)")
    return int(value)


def parse_kairos(header: str, now: float) -> tuple[int, str]:
    """``(timestamp, hex)`` from ``t=…,v1=…``, once well-formed and fresh."""
    fields: dict[str, str] = {}
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or key in fields:
            raise BadSignature("malformed signature")
        fields[key] = value
    if "t" not in fields or "v1" not in fields:
        raise BadSignature("malformed signature (needs t= and v1=)")
    return _timestamp(fields["t"], now), _hex(fields["v1"])


def check_headers(headers: dict[str, str], now: float) -> None:
    """The cheap checks before the body is read: a signature is there and well-formed."""
    kairos = headers.get(KAIROS_HEADER)
    if kairos is not None:
        parse_kairos(kairos, now)
        return
    github = headers.get(GITHUB_HEADER)
    if github is None:
        raise BadSignature("unsigned request (no X-Kairos-Signature or X-Hub-Signature-256)")
    if not github.startswith("sha256="):
        raise BadSignature("malformed signature")
    _hex(github[len("sha256=") :])


def verify(secret: str, headers: dict[str, str], body: bytes, now: float) -> None:
    """Raise ``BadSignature`` unless ``body`` carries a valid signature under ``secret``.

    ``headers`` has lower-case names. The Kairos form wins when both are sent.
    """
    kairos = headers.get(KAIROS_HEADER)
    if kairos is not None:
        timestamp, given = parse_kairos(kairos, now)
        expected = digest(secret, f"{timestamp}.".encode() + body)
    else:
        check_headers(headers, now)
        given = headers[GITHUB_HEADER][len("sha256=") :]
        expected = digest(secret, body)
    if not hmac.compare_digest(expected, given):
        raise BadSignature("bad signature")
