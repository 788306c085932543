"""Network targets jobs may reach: private, loopback and link-local addresses are refused.

Checked on the *resolved* address (a public name can point inside), at task
creation and again on every request and redirect of an HTTP job.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from core.errors import InvalidInput, PermissionDenied

#: Creating a task does not wait long on DNS: the run checks again anyway.
_CREATE_RESOLVE_SECONDS = 3.0
_HINT = "Set KAIROS_HTTP_ALLOW_PRIVATE=true to allow internal targets, or use a public address."


def is_internal(address: str) -> bool:
    """Whether the IP literal ``address`` is private, loopback, link-local or not global."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def split_target(url: str) -> tuple[str, int]:
    """``(host, port)`` of an http(s) URL, or ``InvalidInput`` saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(
            f"The URL {url!r} is not http or https.",
            hint="Give a URL such as https://example.com/.",
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidInput(f"The URL {url!r} has an invalid port.") from exc
    if not parts.hostname:
        raise InvalidInput(f"The URL {url!r} has no host.", hint="E.g. https://example.com/health.")
    return parts.hostname, port


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def check_public(url: str, *, allow_private: bool, strict: bool = True) -> list[str]:
    """Refuse ``url`` when its host resolves to an internal address (unless allowed).

    ``strict=False`` (creation time) lets a name that does not resolve *now*
    through — DNS may be down — the run checks again. Returns the addresses.
    """
    host, port = split_target(url)
    if allow_private:
        return []
    try:
        async with asyncio.timeout(None if strict else _CREATE_RESOLVE_SECONDS):
            addresses = await resolve(host, port)
    except (OSError, TimeoutError) as exc:
        if not strict:
            return []
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidInput(
            f"Cannot resolve {host!r}: {reason}.", hint="Check the host name."
        ) from exc
    internal = [a for a in addresses if is_internal(a)]
    if internal:
        raise PermissionDenied(
            f"{host} resolves to the internal address {internal[0]}; jobs may not call it.",
            hint=_HINT,
        )
    return addresses
