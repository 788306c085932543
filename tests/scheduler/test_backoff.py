"""``Outage``: delays double with jitter up to the cap; one line down, one line back."""

from __future__ import annotations

import logging
import random

import pytest
from sqlalchemy.exc import OperationalError

from core.scheduler.backoff import Outage, is_database_error

from .harness import RecordingMetrics

log = logging.getLogger("tests.backoff")


def test_delays_double_with_jitter_up_to_the_cap(caplog: pytest.LogCaptureFixture) -> None:
    metrics = RecordingMetrics()
    outage = Outage("engine", logger=log, metrics=metrics, rng=random.Random(3))
    caplog.set_level(logging.DEBUG, logger="tests.backoff")
    delays = [outage.failed(ConnectionRefusedError("refused"), float(t)) for t in range(12)]
    for n, delay in enumerate(delays):
        ceiling = min(30.0, 0.5 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert delays[-1] >= 15  # capped at 30 s, never less than half of it
    assert metrics.errors == ["engine"] * 12
    outage.succeeded(40.0)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "engine: database unavailable (ConnectionRefusedError: refused) — retrying with "
        "back-off up to 30 s",
        "engine: database back after 40 s (12 failed attempt(s))",
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert not outage.down and outage.failures == 0
    outage.succeeded(41.0)  # already up: nothing to say
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 2


def test_a_bug_is_logged_once_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    outage = Outage("engine-changes", logger=log)
    caplog.set_level(logging.INFO, logger="tests.backoff")
    for t in range(5):
        outage.failed(KeyError("schedule"), float(t))
    outage.succeeded(9.0)
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" (")[0] for r in records] == [
        "engine-changes: failing",
        "engine-changes: working again after 9 s",
    ]
    assert records[0].exc_info is not None


def test_database_errors_are_told_apart_from_bugs() -> None:
    assert is_database_error(ConnectionResetError(104, "reset"))
    assert is_database_error(OperationalError("SELECT 1", {}, Exception("gone")))
    assert not is_database_error(KeyError("x"))
