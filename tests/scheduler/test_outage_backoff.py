"""``core.scheduler.outage``: delays double with jitter up to the cap; one line down, one
line back; what counts as an unavailable database; the probe wakes a backing-off loop."""

from __future__ import annotations

import asyncio
import logging
import random

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, OperationalError
from waiting import eventually

from core.errors import StoreError
from core.scheduler.outage import (
    Outage,
    Probe,
    is_database_error,
    is_database_outage,
    is_transient,
)

from .harness import RecordingMetrics

log = logging.getLogger("tests.outage_backoff")


def test_delays_double_with_jitter_up_to_the_cap(caplog: pytest.LogCaptureFixture) -> None:
    metrics = RecordingMetrics()
    outage = Outage("engine", logger=log, metrics=metrics, rng=random.Random(3))
    caplog.set_level(logging.DEBUG, logger="tests.outage_backoff")
    delays = [outage.failed(ConnectionRefusedError("refused"), "firing") for _ in range(12)]
    for n, delay in enumerate(delays):
        ceiling = min(30.0, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert delays[-1] >= 15  # capped at 30 s, never less than half of it
    assert metrics.errors == ["engine"] * 12
    outage.ok()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 3, warnings
    assert warnings[0] == (
        "engine: database unavailable (ConnectionRefusedError: refused while firing) — "
        "retrying with back-off up to every 30 s"
    )
    assert warnings[1].startswith("engine: database still unavailable after ")
    assert warnings[2].startswith("engine: database back after ")
    assert warnings[2].endswith("(12 failed attempt(s))")
    assert all(r.exc_info is None for r in caplog.records)
    assert not outage.down and outage.failures == 0
    outage.ok()  # already up: nothing to say
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 3
    # After the recovery the delays start small again.
    assert outage.failed(ConnectionRefusedError("refused"), "firing") <= 0.5


def test_a_bug_is_logged_once_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    outage = Outage("engine-changes", logger=log)
    caplog.set_level(logging.INFO, logger="tests.outage_backoff")
    for _ in range(5):
        outage.failed(KeyError("schedule"), "rescanning")
    outage.ok()
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" (")[0] for r in records] == [
        "engine-changes: failing",
        "engine-changes: working again after 0.0 s",
    ]
    assert records[0].exc_info is not None


def _wrapped(driver_error: Exception) -> StoreError:
    """A driver error as the store raises it: SQLAlchemy's wrapper inside a StoreError."""
    try:
        try:
            raise DBAPIError("SELECT 1", {}, driver_error)
        except DBAPIError as exc:
            raise StoreError("The database could not complete the operation.") from exc
    except StoreError as outer:
        return outer


def test_an_unavailable_database_is_told_apart_from_a_refused_statement_and_a_bug() -> None:
    assert is_transient(ConnectionResetError(104, "reset"))
    assert is_transient(OperationalError("SELECT 1", {}, Exception("gone")))
    # "database … is not currently accepting connections" (SQLSTATE 55000) and an
    # administrator's terminate (57P01) arrive as plain DBAPIError: still an outage.
    not_accepting = asyncpg.exceptions.ObjectNotInPrerequisiteStateError("not accepting")
    assert is_transient(_wrapped(not_accepting))
    assert is_transient(_wrapped(asyncpg.exceptions.AdminShutdownError("terminating")))
    # A statement the database refuses is not retried as is; it is still a database error.
    refused = _wrapped(asyncpg.exceptions.CharacterNotInRepertoireError("NUL"))
    assert not is_transient(refused)
    assert is_database_error(refused)
    assert not is_database_error(KeyError("x"))
    # An outage of the database, as opposed to another service's network error (an HTTP
    # job's refused connection): only the first is retried outside the task's policy.
    assert is_database_outage(_wrapped(not_accepting))
    assert is_database_outage(OperationalError("SELECT 1", {}, Exception("gone")))
    assert not is_database_outage(ConnectionRefusedError(111, "refused"))
    assert not is_database_outage(refused)


async def test_the_probe_wakes_a_loop_as_soon_as_the_database_answers() -> None:
    answers = asyncio.Event()
    pings = 0

    async def ping() -> None:
        nonlocal pings
        pings += 1
        if not answers.is_set():
            raise ConnectionRefusedError("refused")

    back = asyncio.Event()
    probe = Probe(ping, interval=0.01)
    outage = Outage("workers", logger=log, probe=probe, on_back=back.set, cap=30.0)
    for _ in range(10):
        delay = outage.failed(ConnectionRefusedError("refused"), "claiming runs")
    assert delay >= 15  # the loop would sleep this long…
    await eventually(lambda: pings >= 3)
    assert not back.is_set()  # …and the probe does not wake it while the database is away
    answers.set()
    await asyncio.wait_for(back.wait(), 10)  # …but at once when it answers
    await probe.close()
