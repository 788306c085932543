"""``kairos run`` as a real process with Slack over HTTP.

JSON log lines without secrets; ``/healthz``, ``/readyz`` and ``/metrics`` over
real HTTP; and the Slack edge under 8 concurrent 100 MB uploads: each is
refused (413) after at most a few MiB, and the process's peak memory (VmHWM)
barely moves — before the cap, the same uploads took it from 100 MB to ~1 GB.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from waiting import eventually

from .fake_slack import FakeSlack

BOT_TOKEN = "xoxb-served-secret-token"
SIGNING_SECRET = "served-signing-secret"
UPLOAD = 100 * 1024 * 1024
CHUNK = 256 * 1024
RUNNING = "Kairos is running: "

pytestmark = pytest.mark.slow


class Served:
    """A ``kairos run`` child process and what it has logged so far."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.reader = asyncio.create_task(self._read(), name="kairos-run-stderr")

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def url(self) -> str | None:
        for line in self.lines:
            with contextlib.suppress(ValueError):
                message = json.loads(line)["message"]
                if message.startswith(RUNNING):
                    return str(message[len(RUNNING) :]).removesuffix("/healthz")
        return None

    def peak_rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(
            next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]
        )


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    fake = FakeSlack()
    api_url = await fake.start()
    env = {
        **os.environ,
        "KAIROS_DATABASE_URL": f"sqlite:///{tmp_path / 'kairos.db'}",
        "KAIROS_HTTP_PORT": "0",
        "KAIROS_LOG_FORMAT": "json",
        "KAIROS_LOG_LEVEL": "DEBUG",  # the most talkative level must still hide secrets
        "KAIROS_SLACK_BOT_TOKEN": BOT_TOKEN,
        "KAIROS_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "KAIROS_SLACK_API_URL": api_url,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--no-console",
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    server = Served(proc)
    try:
        await eventually(lambda: server.url() or proc.returncode is not None, within=60)
        assert proc.returncode is None, "\n".join(server.lines)
        yield server
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await server.reader
        await fake.stop()


async def upload(url: str, *, declare: bool) -> tuple[int | None, int]:
    """POST 100 MB to /slack/events in chunks; (status seen, bytes the server let in)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    timestamp = str(int(time.time()))
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: kairos\r\nContent-Type: application/json\r\n"
        f"X-Slack-Request-Timestamp: {timestamp}\r\nX-Slack-Signature: v0={'a' * 64}\r\n"
        + (f"Content-Length: {UPLOAD}\r\n" if declare else "Transfer-Encoding: chunked\r\n")
        + "\r\n"
    )
    writer.write(head.encode())
    sent = 0
    chunk = b"[" * CHUNK
    framed = chunk if declare else f"{CHUNK:x}\r\n".encode() + chunk + b"\r\n"
    response = asyncio.create_task(reader.read(4096))
    try:
        while sent < UPLOAD and not response.done():
            writer.write(framed)
            # A server that stopped reading makes drain() wait for ever: give up then.
            await asyncio.wait_for(writer.drain(), 5)
            sent += CHUNK
    except (ConnectionError, TimeoutError):
        pass
    try:
        first = await asyncio.wait_for(response, 10)
    except (ConnectionError, TimeoutError):
        first = b""
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    status = int(first.split()[1]) if first.startswith(b"HTTP/1.1 ") else None
    return status, sent


async def test_the_edge_under_eight_100mb_uploads_keeps_memory_bounded(served: Served) -> None:
    url = served.url()
    assert url is not None
    before = served.peak_rss_kib()
    results = await asyncio.gather(*(upload(url, declare=i % 2 == 0) for i in range(8)))
    after = served.peak_rss_kib()
    print(
        f"\npeak RSS {before / 1024:.0f} → {after / 1024:.0f} MiB; uploads (status, MiB in): "
        + ", ".join(f"({s}, {n / 2**20:.1f})" for s, n in results)
    )
    assert all(status in (413, None) for status, _ in results), results
    assert any(status == 413 for status, _ in results), results
    assert all(sent < 32 * 1024 * 1024 for _, sent in results), results
    assert after - before < 64 * 1024, f"peak RSS grew by {(after - before) / 1024:.0f} MiB"
    async with httpx.AsyncClient(base_url=url) as client:  # still serving afterwards
        assert (await client.get("/healthz")).status_code == 200


async def test_health_readiness_metrics_and_json_logs_without_secrets(served: Served) -> None:
    url = served.url()
    assert url is not None
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/healthz")).json()["status"] == "ok"
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert 'kairos_runs{status="pending"} 0.0' in metrics.text
        refused = await client.post(
            "/slack/events",
            content=json.dumps({"token": BOT_TOKEN, "response_url": "https://hooks.slack.com/x"}),
            headers={"Content-Type": "application/json"},
        )
        assert refused.status_code == 401
    await eventually(lambda: any("refused POST /slack/events" in line for line in served.lines))
    records: list[dict[str, Any]] = [json.loads(line) for line in served.lines]  # all JSON
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    text = "\n".join(served.lines)
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text
    assert "hooks.slack.com" not in text
