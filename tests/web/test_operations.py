"""``/healthz``, ``/readyz``, ``/metrics`` on a real Kairos (both backends); JSON logs; settings."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import make_url
from waiting import eventually

from bot.app import Kairos
from bot.logs import configure_logging
from bot.metrics import PrometheusMetrics
from bot.settings import Settings
from bot.web import build_web_app, health_routes, metrics_routes
from core.clock import ManualClock
from core.ports import Metrics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, keyed by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_prometheus_metrics_counts_what_the_port_reports() -> None:
    metrics: Metrics = PrometheusMetrics()
    metrics.fired(3)
    metrics.run_started("notify", 0.4)
    metrics.run_finished("notify", "completed", 0.2)
    metrics.run_finished("shell", "failed", 7.0)
    metrics.queue_depth(5)
    metrics.db_error("engine")
    metrics.chat_call("slack", "chat.postMessage", "ok")
    metrics.chat_call("slack", "chat.postMessage", "rate_limited")
    assert isinstance(metrics, PrometheusMetrics)
    other = PrometheusMetrics()  # its own registry: nothing shared between instances
    other.fired(100)
    import asyncio

    found = samples(asyncio.run(metrics.exposition()).decode())
    assert found[("kairos_fires_total", ())] == 3
    assert found[("kairos_runs_started_total", (("executor", "notify"),))] == 1
    assert found[("kairos_runs_finished_total", (("executor", "shell"), ("status", "failed")))] == 1
    assert found[("kairos_run_duration_seconds_count", (("executor", "notify"),))] == 1
    assert (
        found[("kairos_run_lateness_seconds_bucket", (("executor", "notify"), ("le", "0.5")))] == 1
    )
    assert found[("kairos_queue_depth", ())] == 5
    assert found[("kairos_db_errors_total", (("component", "engine"),))] == 1
    key = (("method", "chat.postMessage"), ("outcome", "rate_limited"), ("platform", "slack"))
    assert found[("kairos_chat_api_calls_total", key)] == 1


@pytest.fixture
async def kairos(database_url: str, clock: ManualClock) -> AsyncIterator[Kairos]:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    opened = await Kairos.open(settings, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def web(kairos: Kairos) -> AsyncIterator[httpx.AsyncClient]:
    routes = health_routes(kairos.health, ready=kairos.readiness) + metrics_routes(kairos.metrics)
    transport = httpx.ASGITransport(app=build_web_app(routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://kairos.test") as client:
        yield client


async def test_ready_only_once_the_scheduler_runs_and_the_schema_is_current(
    kairos: Kairos, web: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await web.get("/healthz")).status_code == 200
    before = await web.get("/readyz")
    assert before.status_code == 503
    assert before.json()["reasons"] == ["scheduler not started"]
    await kairos.start()
    with caplog.at_level(logging.INFO):
        caplog.clear()
        ready = await web.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    # A probe every few seconds must not write log lines (Alembic's context logs two).
    assert not [r for r in caplog.records if r.name.startswith("alembic")]

    async with kairos.db.engine.begin() as conn:  # as if an older Kairos had migrated it
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    behind = await web.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["reasons"][0].startswith("database schema at 0001, this version needs")


class Proxy:
    """A TCP proxy on port 0 in front of PostgreSQL that can play "the server is gone"."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.open = True
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        self.open = False
        for writer in self.writers:
            writer.transport.abort()

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_readyz_says_when_the_database_is_unreachable(
    database_url: str, backend: str, clock: ManualClock
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite is a file: there is no server to lose")
    url = make_url(database_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    proxied = url.set(port=port).render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=proxied)  # type: ignore[call-arg]
    kairos = await Kairos.open(settings, clock=clock)
    try:
        await kairos.start()
        assert await kairos.readiness() == []
        proxy.cut()
        reasons = await eventually(kairos.readiness)
        assert len(reasons) == 1 and reasons[0].startswith("database unreachable ("), reasons
    finally:
        await proxy.stop()
        await kairos.close()


async def test_metrics_endpoint_serves_prometheus_text_with_run_counts(
    kairos: Kairos, web: httpx.AsyncClient
) -> None:
    kairos.metrics.fired(2)
    response = await web.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found[("kairos_fires_total", ())] == 2
    assert found[("kairos_runs", (("status", "pending"),))] == 0
    assert found[("kairos_runs", (("status", "running"),))] == 0


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, restored afterwards (configure_logging replaces its handlers)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield root
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_json_logs_are_one_object_per_line_with_secrets_masked(
    root_logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    configure_logging("INFO", fmt="json", secrets=["xoxb-very-secret"])
    handler = root_logger.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    log = logging.getLogger("kairos.test")
    log.info("token is %s", "xoxb-very-secret")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("it failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["token is ********", "it failed"]
    assert {"time", "level", "logger", "message"} <= set(lines[0]) and "exception" not in lines[0]
    assert lines[1]["level"] == "ERROR" and "RuntimeError: boom" in lines[1]["exception"]
    assert lines[0]["logger"] == "kairos.test"


def test_httpx_request_lines_are_kept_for_debugging(root_logger: logging.Logger) -> None:
    """httpx logs every request at INFO (a line per HTTP job and chat call): shown only
    at DEBUG."""
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    try:
        configure_logging("INFO")
        assert not httpx_logger.isEnabledFor(logging.INFO)
        assert httpx_logger.isEnabledFor(logging.WARNING)
        configure_logging("DEBUG")
        assert httpx_logger.isEnabledFor(logging.INFO)
    finally:
        httpx_logger.setLevel(level)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not-a-url", "not a database URL; use sqlite:///path/to/kairos.db"),
        (
            "mysql://kairos:pw@db/kairos",
            "Kairos stores its data in SQLite or PostgreSQL, not 'mysql'",
        ),
        ("", "not a database URL"),
    ],
)
def test_a_bad_database_url_is_one_clear_settings_error(url: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    errors = caught.value.errors()
    assert len(errors) == 1 and message in errors[0]["msg"]
    assert "pw@" not in errors[0]["msg"]


def test_settings_list_their_secrets_for_masking() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url="postgresql://kairos:db-password@localhost/kairos",
        slack_bot_token=SecretStr("xoxb-1"),
        slack_signing_secret=SecretStr("signing"),
    )
    assert set(settings.secret_values()) == {"xoxb-1", "signing", "db-password"}
