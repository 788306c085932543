"""Around every action executor: open the attempt's log, record what it produced, report it.

``ReportingExecutor`` wraps shell, HTTP, SQL and digest executors. It gives the
job a real log sink (the worker's ``Job`` carries ``NullLogSink``), records the
exit/HTTP status, output excerpt, log location and traceback on the run right
after the attempt ends — success, failure or timeout — and hands a ``RunReport``
to the chat (``RunReporter``) without delaying the worker's own record.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import traceback
from collections.abc import Mapping
from typing import Any

from core.errors import JobFailed, KairosError
from core.executors.logs import MemoryLogSink, TeeLogSink
from core.jobs import Job, NullLogSink
from core.ports import ClosableLogSink, ExecutionResult, Executor, LogSinks, RunReport, RunReporter
from core.retry import error_kind
from core.store.history import RunHistory, RunOutput

log = logging.getLogger(__name__)


class ReportingExecutor:
    """An ``Executor`` that records and reports the attempts of ``inner``."""

    def __init__(
        self,
        inner: Executor,
        *,
        history: RunHistory | None,
        logs: LogSinks | None = None,
        reporter: RunReporter | None = None,
        excerpt_cap: int = 64 * 1024,
    ) -> None:
        self.inner = inner
        self._history = history
        self._logs = logs
        self._reporter = reporter
        self._cap = excerpt_cap
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def action_model(self) -> Any:
        return getattr(self.inner, "action_model", None)

    async def execute(self, job: Job) -> ExecutionResult:
        sink: ClosableLogSink
        if isinstance(job.log, NullLogSink):
            sink = self._logs.open(job) if self._logs is not None else MemoryLogSink(self._cap)
            job = dataclasses.replace(job, log=sink)
        else:  # the worker already gave a sink: keep an excerpt beside it
            sink = TeeLogSink(job.log, self._cap)
            job = dataclasses.replace(job, log=sink)
        started = time.perf_counter()
        result: ExecutionResult | None = None
        error: str | None = None
        details: JobFailed | None = None
        trace: str | None = None
        kind: str | None = None
        try:
            result = await self.inner.execute(job)
            return result
        except JobFailed as exc:
            error, details, kind = exc.user_message(), exc, error_kind(exc)
            raise
        except KairosError as exc:
            error, kind = exc.user_message(), error_kind(exc)
            raise
        except (TimeoutError, asyncio.CancelledError):
            error = f"timeout: no result after {job.timeout_seconds:g} s (or Kairos stopped)"
            kind = "timeout"
            raise
        except Exception as exc:
            error, trace = f"{type(exc).__name__}: {exc}", traceback.format_exc()
            kind = error_kind(exc)
            raise
        finally:
            await sink.close()
            report = RunReport(
                run_id=job.run_id,
                ok=result is not None,
                duration_seconds=time.perf_counter() - started,
                summary=result.output if result is not None else (error or ""),
                excerpt=sink.excerpt(),
                error=error,
                exit_code=result.exit_code if result else (details.exit_code if details else None),
                http_status=(
                    result.http_status if result else (details.http_status if details else None)
                ),
                log_location=sink.location,
                result=result.result if result else None,
                error_kind=kind,
                attempt=job.attempt,
            )
            # Shielded: a timeout or shutdown cancelling the attempt must not lose its record.
            await asyncio.shield(self._record(report, trace))
            self._report_later(job, report)

    async def _record(self, report: RunReport, trace: str | None) -> None:
        if self._history is None:
            return
        output = RunOutput(
            exit_code=report.exit_code,
            http_status=report.http_status,
            log_excerpt=report.excerpt or None,
            log_path=report.log_location,
            result=_plain(report.result),
            traceback=trace,
        )
        try:
            await self._history.record_output(report.run_id, output)
        except Exception:
            log.exception("run %s: recording its output failed", report.run_id)

    def _report_later(self, job: Job, report: RunReport) -> None:
        if self._reporter is None:
            return
        task = asyncio.create_task(
            self._report(job, report), name=f"kairos-report-run-{report.run_id}"
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _report(self, job: Job, report: RunReport) -> None:
        assert self._reporter is not None
        try:
            await self._reporter.report(job, report)
        except Exception:
            log.exception("run %s: posting its result to chat failed", report.run_id)

    async def drain(self) -> None:
        """Wait for result posts still on their way (at shutdown)."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=10)

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


def _plain(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else dict(value)
