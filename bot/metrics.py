"""``PrometheusMetrics``: Kairos's operational counters in Prometheus's text format.

It implements ``core.ports.Metrics`` (the scheduler and the chat adapters count
into it) with its own ``CollectorRegistry`` per instance — no process-wide
globals, so two Kairos in one process (tests) never mix their figures.
``GET /metrics`` renders ``exposition()``; gauges that mirror the database
(runs pending/running) are read at scrape time through ``refresh``.

Metric names (all prefixed ``kairos_``) are listed in ``docs/operations.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

log = logging.getLogger(__name__)

#: Seconds; runs last from milliseconds (a reminder) to the run timeout (minutes).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)
#: Seconds late; the targets are "within 1 s" and "p99 ≤ 5 s".
LATENESS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600)

StoreGauges = Callable[[], Awaitable[Mapping[str, float]]]


class PrometheusMetrics:
    """A ``core.ports.Metrics`` that Prometheus can scrape; see the module docstring."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, *, store_gauges: StoreGauges | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._fires = Counter("kairos_fires", "Runs written by fire batches.", registry=r)
        self._started = Counter(
            "kairos_runs_started", "Attempts that entered their executor.", ["executor"], registry=r
        )
        self._finished = Counter(
            "kairos_runs_finished",
            "Attempts that ended, by status.",
            ["executor", "status"],
            registry=r,
        )
        self._duration = Histogram(
            "kairos_run_duration_seconds",
            "How long an attempt ran.",
            ["executor"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self._lateness = Histogram(
            "kairos_run_lateness_seconds",
            "Due instant → executor entered.",
            ["executor"],
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self._queue = Gauge(
            "kairos_queue_depth", "Runs handed over locally but not yet executing.", registry=r
        )
        self._db_errors = Counter(
            "kairos_db_errors",
            "Failed database operations, by component.",
            ["component"],
            registry=r,
        )
        self._chat = Counter(
            "kairos_chat_api_calls",
            "Chat API calls by platform, method and outcome (ok, error, rate_limited).",
            ["platform", "method", "outcome"],
            registry=r,
        )
        self._runs = Gauge(
            "kairos_runs",
            "Runs in the database by status (read at scrape time).",
            ["status"],
            registry=r,
        )
        self._store_gauges = store_gauges

    # --- core.ports.Metrics: cheap, never raising ------------------------------------

    def fired(self, count: int) -> None:
        if count > 0:
            self._fires.inc(count)

    def run_started(self, executor: str, lateness_seconds: float) -> None:
        self._started.labels(executor).inc()
        self._lateness.labels(executor).observe(max(0.0, lateness_seconds))

    def run_finished(self, executor: str, status: str, duration_seconds: float) -> None:
        self._finished.labels(executor, status).inc()
        self._duration.labels(executor).observe(max(0.0, duration_seconds))

    def queue_depth(self, depth: int) -> None:
        self._queue.set(depth)

    def db_error(self, component: str) -> None:
        self._db_errors.labels(component).inc()

    def chat_call(self, platform: str, method: str, outcome: str) -> None:
        self._chat.labels(platform, method, outcome).inc()

    # --- exposition ----------------------------------------------------------------

    async def refresh(self) -> None:
        """Read the gauges that mirror the database; a failure leaves the last values."""
        if self._store_gauges is None:
            return
        try:
            values = await self._store_gauges()
        except Exception as exc:  # a scrape must not fail because the database is down
            self.db_error("metrics")
            log.warning("metrics: could not read run counts: %s", type(exc).__name__)
            return
        for status, value in values.items():
            self._runs.labels(status).set(value)

    async def exposition(self) -> bytes:
        """Everything, in Prometheus's text format (after ``refresh``)."""
        await self.refresh()
        return generate_latest(self.registry)
