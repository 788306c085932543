"""HTTP jobs against a real local server on port 0 (aiohttp), through the real httpx client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from waiting import eventually

from core.errors import InvalidInput, JobFailed, PermissionDenied
from core.executors.http import HttpExecutor

from .helpers import excerpt, job, policy


@dataclass
class Server:
    url: str
    requests: list[web.Request] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    holder: dict[str, Server] = {}
    released = asyncio.Event()

    async def record(request: web.Request) -> None:
        holder["s"].requests.append(request)
        holder["s"].headers.append(dict(request.headers))

    async def ok(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text=f"hello {request.method} {await request.text()}")

    async def fail(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(status=503, text="maintenance until 3am")

    async def slow(request: web.Request) -> web.Response:
        await record(request)
        await released.wait()  # until the test ends: longer than any client timeout
        return web.Response(text="late")

    async def big(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(400):  # 400 × 64 KiB = 25 MiB unless the client hangs up
            await response.write(b"x" * 65536)
        return response

    async def hop(request: web.Request) -> web.Response:
        await record(request)
        target = request.query.get("to", "/ok")
        raise web.HTTPFound(target)

    async def loop(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound("/loop")

    app = web.Application()
    app.router.add_route("*", "/ok", ok)
    app.router.add_get("/fail", fail)
    app.router.add_get("/slow", slow)
    app.router.add_get("/big", big)
    app.router.add_get("/hop", hop)
    app.router.add_get("/loop", loop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    holder["s"] = Server(url=f"http://127.0.0.1:{port}")
    try:
        yield holder["s"]
    finally:
        released.set()
        await runner.cleanup()


@pytest.fixture
async def executor_for(data_dir: Path) -> AsyncIterator[list[HttpExecutor]]:
    made: list[HttpExecutor] = []
    yield made
    for executor in made:
        await executor.aclose()


def _http(url: str, **extra: object) -> dict[str, object]:
    return {"type": "http", "url": url, **extra}


def _make(made: list[HttpExecutor], data_dir: Path, **changes: object) -> HttpExecutor:
    executor = HttpExecutor(policy(data_dir, **changes))
    made.append(executor)
    return executor


async def test_get_records_status_and_body(
    server: Server, data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    j = job(_http(server.url + "/ok"))
    result = await _make(executor_for, data_dir).execute(j)
    assert result.http_status == 200
    assert "→ 200" in result.output
    assert result.result is not None and result.result["status"] == 200
    assert "hello GET" in excerpt(j)


async def test_post_is_templated_and_secrets_are_masked(
    server: Server, data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    action = _http(
        server.url + "/ok?run={run_id}&key={secret.TOKEN}",
        method="POST",
        headers={"Authorization": "Bearer {secret.TOKEN}"},
        body="task {task_id} due {scheduled_for}",
    )
    j = job(action, run_id=42, task_id=7)
    executor = _make(executor_for, data_dir, secrets={"TOKEN": "s3cr3t"})
    result = await executor.execute(j)
    sent = server.requests[-1]
    assert sent.query["run"] == "42" and sent.query["key"] == "s3cr3t"
    assert server.headers[-1]["Authorization"] == "Bearer s3cr3t"
    assert "task 7 due 2026-03-02T02:00:00+00:00" in excerpt(j)
    assert "s3cr3t" not in result.output and "key=***" in result.output
    assert "s3cr3t" not in excerpt(j)


async def test_the_event_payload_fills_url_headers_and_body(
    server: Server, data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    action = _http(
        server.url + "/ok?repo={event.repository.name}&first={event.commits.0}",
        method="POST",
        headers={"X-Ref": "{event.ref}"},
        body="{event}",
    )
    payload = {"ref": "main", "repository": {"name": "a&b=c/d"}, "commits": ["c1", "c2"]}
    j = job(action, event=payload)
    await _make(executor_for, data_dir).execute(j)
    sent = server.requests[-1]
    # A value from outside stays one query value: '&', '=' and '/' do not split it.
    assert dict(sent.query) == {"repo": "a&b=c/d", "first": "c1"}
    assert server.headers[-1]["X-Ref"] == "main"
    body = excerpt(j).split("hello POST ", 1)[1].splitlines()[0]
    assert json.loads(body) == payload
    with pytest.raises(TypeError):
        j.event["ref"] = "other"  # type: ignore[index]


async def test_event_placeholders_fail_clearly_without_a_matching_payload(
    server: Server, data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    executor = _make(executor_for, data_dir)
    with pytest.raises(InvalidInput, match="no event payload"):
        await executor.execute(job(_http(server.url + "/ok?x={event.id}")))
    with pytest.raises(InvalidInput, match=r"has no 'id'.*it has: ref"):
        await executor.execute(job(_http(server.url + "/ok?x={event.id}"), event={"ref": "x"}))
    assert server.requests == []


async def test_status_outside_the_expected_set_fails(
    server: Server, data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    executor = _make(executor_for, data_dir)
    with pytest.raises(JobFailed, match="expected 2xx") as failed:
        await executor.execute(job(_http(server.url + "/fail")))
    assert failed.value.http_status == 503
    assert "maintenance until 3am" in failed.value.message
    # ...and a 503 the job expects is a success.
    result = await executor.execute(job(_http(server.url + "/fail", expect_status=[503])))
    assert result.http_status == 503


async def test_slow_url_fails_at_its_timeout(
    server: Server, data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    executor = _make(executor_for, data_dir, http_timeout_seconds=0.5)
    with pytest.raises(JobFailed, match=r"no response within 0\.5 s"):
        await executor.execute(job(_http(server.url + "/slow")))


async def test_unreachable_url_fails_clearly(
    data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(JobFailed, match="cannot reach it"):
        await _make(executor_for, data_dir).execute(job(_http(f"http://127.0.0.1:{port}/")))


async def test_response_is_cut_at_the_size_cap(
    server: Server, data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    j = job(_http(server.url + "/big"))
    result = await _make(executor_for, data_dir, output_cap_bytes=100_000).execute(j)
    assert result.result is not None and result.result["truncated"] is True
    assert result.result["bytes"] == 100_000


async def test_redirects_are_followed_and_limited(
    server: Server, data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    executor = _make(executor_for, data_dir, http_max_redirects=3)
    result = await executor.execute(job(_http(server.url + "/hop?to=/ok")))
    assert result.http_status == 200
    with pytest.raises(JobFailed, match="more than 3 redirects"):
        await executor.execute(job(_http(server.url + "/loop")))
    assert sum(1 for r in server.requests if r.path == "/loop") == 4


async def test_private_targets_are_refused_before_connecting(
    server: Server, data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    executor = _make(executor_for, data_dir, http_allow_private=False)
    for url in (
        server.url + "/ok",
        "http://localhost:1/",
        "http://[::1]:1/",
        "http://169.254.169.254/",
    ):
        with pytest.raises(PermissionDenied, match="internal address") as refused:
            await executor.execute(job(_http(url)))
        assert "KAIROS_HTTP_ALLOW_PRIVATE" in refused.value.user_message()
    assert server.requests == []


async def test_a_redirect_to_a_private_address_is_refused(
    server: Server,
    data_dir: Path,
    executor_for: list[HttpExecutor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Fake DNS at the edge: "127.0.0.1" (the test server) passes as public, while
    # "localhost", where it redirects to, resolves to loopback as usual.
    import core.addresses

    real = core.addresses.resolve

    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"] if host == "127.0.0.1" else await real(host, port)

    monkeypatch.setattr(core.addresses, "resolve", resolve)
    port = server.url.rsplit(":", 1)[1]
    executor = _make(executor_for, data_dir, http_allow_private=False)
    with pytest.raises(PermissionDenied, match="localhost resolves to the internal address"):
        await executor.execute(job(_http(server.url + f"/hop?to=http://localhost:{port}/ok")))
    assert [r.path for r in server.requests] == ["/hop"]


async def test_unknown_secret_and_bad_scheme_are_refused(
    data_dir: Path, executor_for: list[HttpExecutor]
) -> None:
    executor = _make(executor_for, data_dir)
    with pytest.raises(InvalidInput, match="secret 'NOPE'"):
        await executor.execute(job(_http("https://example.com/?k={secret.NOPE}")))
    with pytest.raises(InvalidInput, match="not http or https"):
        await executor.execute(job(_http("file:///etc/passwd")))


async def test_requests_beyond_the_connection_limit_wait_for_a_slot_within_their_timeout(
    server: Server,
    data_dir: Path,
    executor_for: list[HttpExecutor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import core.executors.http as http_module

    monkeypatch.setattr(http_module, "CONNECTIONS", 2)
    executor = _make(executor_for, data_dir, http_timeout_seconds=5.0)
    hung = [
        asyncio.create_task(executor.execute(job(_http(server.url + "/slow")))) for _ in range(2)
    ]
    await eventually(lambda: len(server.requests) == 2)
    with pytest.raises(JobFailed, match=r"no free connection within 0\.45 s \(2 HTTP requests"):
        await executor.execute(job(_http(server.url + "/ok"), timeout=0.5))
    assert len(server.requests) == 2  # the third never reached the server
    for task in hung:
        task.cancel()
    await asyncio.gather(*hung, return_exceptions=True)
    result = await executor.execute(job(_http(server.url + "/ok")))
    assert result.http_status == 200  # the cancelled runs gave their slots back


async def test_requests_hung_on_one_host_never_hold_up_the_free_connections(
    server: Server,
    data_dir: Path,
    executor_for: list[HttpExecutor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The connections are split over several clients: a request goes to the least busy
    one, so while fewer than CONNECTIONS requests hang, another is sent at once."""
    import core.executors.http as http_module

    monkeypatch.setattr(http_module, "CONNECTIONS", 8)
    monkeypatch.setattr(http_module, "SHARDS", 4)
    executor = _make(executor_for, data_dir, http_timeout_seconds=5.0)
    hung = [
        asyncio.create_task(executor.execute(job(_http(server.url + "/slow")))) for _ in range(7)
    ]
    await eventually(lambda: len(server.requests) == 7)
    result = await executor.execute(job(_http(server.url + "/ok"), timeout=2.0))
    assert result.http_status == 200  # the eighth connection, not a queue behind a hung one
    for task in hung:
        task.cancel()
    await asyncio.gather(*hung, return_exceptions=True)
