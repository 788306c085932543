"""HTTP jobs: shared ``httpx.AsyncClient`` pools, templated requests, guarded targets.

Guarantee: at most once per attempt; a retry sends the request again (use
idempotent endpoints or an idempotency header such as ``{run_id}``). Every hop —
the first URL and each redirect — is resolved and refused when it points at a
private, loopback or link-local address, unless ``KAIROS_HTTP_ALLOW_PRIVATE``.
(The check resolves the name just before httpx connects; a DNS answer that
changes in between is not caught — put an egress proxy in front for that.)
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from core.actions import HttpAction, action_as
from core.addresses import check_public
from core.errors import InvalidInput, JobFailed
from core.jobs import Job
from core.policy import ExecutionPolicy
from core.ports import ExecutionResult
from core.templates import PLACEHOLDER, event_value

_SHOWN_HEADERS = ("content-type", "content-length", "location", "date", "server")

#: Requests in flight at once, and connections kept open. Runs beyond it wait
#: for a slot in ``HttpExecutor`` (bounded by the request's timeout), not in
#: httpcore's pool: its bookkeeping scans every queued request against every
#: connection on each request and response, and it closes any idle connection
#: once more than ``max_keepalive_connections`` are open — so both limits are
#: equal here.
CONNECTIONS = 64
#: The connections are split over this many clients, each request going to the
#: least busy (so a slow host never holds up the others): the cost of
#: httpcore's scan grows with its pool, and eight pools of eight served a burst
#: to one local server at ~1,000 requests/s where one pool of 64 managed 490–840
#: (this machine, same run).
SHARDS = 8


class HttpExecutor:
    """Runs ``HttpAction`` jobs through shared clients (closed by ``aclose``)."""

    action_model = HttpAction

    def __init__(self, policy: ExecutionPolicy) -> None:
        self._policy = policy
        self._clients: list[httpx.AsyncClient] = []
        self._busy: list[int] = []
        self._slots = asyncio.Semaphore(CONNECTIONS)

    def _pick(self) -> int:
        """The index of the least busy client (the clients are made on first use)."""
        if not self._clients:
            shards = min(SHARDS, CONNECTIONS)
            per_shard = CONNECTIONS // shards
            limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
            self._clients = [
                httpx.AsyncClient(
                    follow_redirects=False,  # followed by hand: each hop is checked
                    limits=limits,
                    headers={"User-Agent": "Kairos (scheduled job)"},
                )
                for _ in range(shards)
            ]
            self._busy = [0] * shards
        return min(range(len(self._busy)), key=self._busy.__getitem__)

    async def aclose(self) -> None:
        clients, self._clients = self._clients, []
        for client in clients:
            await client.aclose()

    async def execute(self, job: Job) -> ExecutionResult:
        action = action_as(job.action, HttpAction)
        policy = self._policy
        values = _values(job)
        url, shown_url = _render(action.url, values, policy.secrets, event=job.event, in_url=True)
        headers = {
            k: _render(v, values, policy.secrets, event=job.event)[0]
            for k, v in action.headers.items()
        }
        body = (
            _render(action.body, values, policy.secrets, event=job.event)[0]
            if action.body is not None
            else None
        )
        timeout = min(policy.http_timeout_seconds, job.timeout_seconds * 0.9)
        started = time.perf_counter()
        method = action.method
        response, data, truncated = await self._follow(
            method, url, shown_url, headers, body, timeout
        )
        seconds = time.perf_counter() - started
        excerpt = data.decode(response.encoding or "utf-8", "replace")
        await job.log.write(
            "info", f"{method} {shown_url} → {response.status_code} {response.reason_phrase}\n"
        )
        await job.log.write(
            "stdout", excerpt + ("\n[response cut at the size cap]" if truncated else "")
        )
        result: dict[str, Any] = {
            "status": response.status_code,
            "headers": {k: response.headers[k] for k in _SHOWN_HEADERS if k in response.headers},
            "bytes": len(data),
            "truncated": truncated,
        }
        expected = action.expect_status
        ok = response.status_code in expected if expected else 200 <= response.status_code < 300
        summary = (
            f"{method} {shown_url} → {response.status_code} in {seconds:.2f} s, {len(data)} bytes"
        )
        if not ok:
            wanted = ", ".join(map(str, expected)) if expected else "2xx"
            raise JobFailed(
                f"{summary}: {response.reason_phrase}, expected {wanted}."
                + (f"\n{excerpt[:500]}" if excerpt.strip() else ""),
                http_status=response.status_code,
            )
        return ExecutionResult(output=summary, http_status=response.status_code, result=result)

    async def _follow(
        self,
        method: str,
        url: str,
        shown: str,
        headers: dict[str, str],
        body: str | None,
        seconds: float,
    ) -> tuple[httpx.Response, bytes, bool]:
        try:
            async with asyncio.timeout(seconds):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise JobFailed(
                f"{method} {shown}: no free connection within {seconds:g} s "
                f"({CONNECTIONS} HTTP requests already in flight).",
                hint="Too many HTTP jobs at once: spread them out or raise the task's timeout.",
            ) from exc
        shard = self._pick()
        self._busy[shard] += 1
        try:
            return await self._hops(
                self._clients[shard], method, url, shown, headers, body, seconds
            )
        finally:
            self._busy[shard] -= 1
            self._slots.release()

    async def _hops(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        shown: str,
        headers: dict[str, str],
        body: str | None,
        seconds: float,
    ) -> tuple[httpx.Response, bytes, bool]:
        policy = self._policy
        for _hop in range(policy.http_max_redirects + 1):
            await check_public(url, allow_private=policy.http_allow_private)
            request = client.build_request(
                method, url, headers=headers, content=body, timeout=httpx.Timeout(seconds)
            )
            try:
                response = await client.send(request, stream=True)
                try:
                    data, truncated = await _read_capped(response, policy.output_cap_bytes)
                finally:
                    await response.aclose()
            except httpx.TimeoutException as exc:
                raise JobFailed(
                    f"{method} {shown}: no response within {seconds:g} s ({type(exc).__name__}).",
                    hint="Check that the service is up, or raise the task's timeout_seconds.",
                ) from exc
            except httpx.HTTPError as exc:
                raise JobFailed(
                    f"{method} {shown}: cannot reach it ({type(exc).__name__}: {exc}).",
                    hint="Check the URL and that the service is reachable from Kairos.",
                ) from exc
            if not response.is_redirect or "location" not in response.headers:
                return response, data, truncated
            url = str(response.url.join(response.headers["location"]))
            shown = url
            if response.status_code in (301, 302, 303) and method not in ("GET", "HEAD"):
                method, body = "GET", None
        raise JobFailed(
            f"{shown}: more than {policy.http_max_redirects} redirects.",
            hint="Point the job at the final URL.",
        )


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > cap:
            return bytes(data[:cap]), True
    return bytes(data), False


def _values(job: Job) -> dict[str, str]:
    return {
        "scheduled_for": job.scheduled_for.isoformat(),
        "now": datetime.now(UTC).isoformat(),
        "task_id": str(job.task_id),
        "run_id": str(job.run_id),
        "attempt": str(job.attempt),
    }


def _render(
    template: str,
    values: Mapping[str, str],
    secrets: Mapping[str, str],
    *,
    event: Mapping[str, Any] | None = None,
    in_url: bool = False,
) -> tuple[str, str]:
    """``(real, shown)``: the template filled in, and the same with secrets masked.

    Event values come from outside: in a URL they are percent-encoded, so a
    payload can fill a path segment or a query value but never add a host, a
    path or a parameter.
    """

    def fill(mask: bool) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "event" or name.startswith("event."):
                text = event_value(event, name)
                return quote(text, safe="") if in_url else text
            if name.startswith("secret."):
                key = name.removeprefix("secret.")
                if key not in secrets:
                    raise InvalidInput(
                        f"The job asks for the secret {key!r}, which is not configured.",
                        hint="Define it in KAIROS_SECRETS (JSON: name → value).",
                    )
                return "***" if mask else secrets[key]
            return values.get(name, match.group(0))

        return PLACEHOLDER.sub(one, template)

    return fill(False), fill(True)
