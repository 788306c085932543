"""``Outage``: exponential back-off with jitter and one log line per state change.

A loop that talks to the database asks ``failed()`` how long to wait after an
error and calls ``succeeded()`` after a success. The first failure logs one
warning ("database unavailable — retrying with back-off up to 30 s"), the
recovery one info line ("database back after 17 s"); the attempts in between
log at debug level, without tracebacks, so an outage is two lines, not thousands.
An error that does not come from the database (a bug) is logged once with its
traceback, and backed off the same way.
"""

from __future__ import annotations

import logging
import random

from core.errors import StoreError
from core.ports import Metrics, NullMetrics

#: Modules whose exceptions mean "the database did not answer" (besides ``OSError``).
_DATABASE_MODULES = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3")

#: First delay after a failure, and the cap the delays double towards.
BASE_SECONDS = 0.5
CAP_SECONDS = 30.0


class Outage:
    """Back-off state of one component (``engine``, ``engine-listener``…)."""

    def __init__(
        self,
        component: str,
        *,
        logger: logging.Logger,
        metrics: Metrics | None = None,
        base: float = BASE_SECONDS,
        cap: float = CAP_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self.component = component
        self._log = logger
        self._metrics = metrics or NullMetrics()
        self._base = base
        self._cap = cap
        self._rng = rng or random.Random()
        self.failures = 0
        self._since: float | None = None
        self._database = True

    @property
    def down(self) -> bool:
        """Whether the last attempt failed."""
        return self._since is not None

    def failed(self, exc: BaseException, now: float) -> float:
        """Record a failure at ``now`` (seconds); returns how long to wait before retrying."""
        self._metrics.db_error(self.component)
        self.failures += 1
        if self._since is None:
            self._since = now
            self._database = is_database_error(exc)
            if self._database:
                self._log.warning(
                    "%s: database unavailable (%s) — retrying with back-off up to %g s",
                    self.component,
                    _summary(exc),
                    self._cap,
                )
            else:
                self._log.error(
                    "%s: failing (%s) — retrying with back-off up to %g s",
                    self.component,
                    _summary(exc),
                    self._cap,
                    exc_info=exc,
                )
        else:
            self._log.debug("%s: still failing (%s)", self.component, _summary(exc))
        # Full jitter on the upper half: replicas spread out, the delay still grows.
        ceiling = min(self._cap, self._base * 2.0 ** min(self.failures - 1, 32))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def succeeded(self, now: float) -> None:
        """Record a success; logs the recovery if the component was down."""
        if self._since is not None:
            self._log.warning(
                "%s: %s after %.0f s (%d failed attempt(s))",
                self.component,
                "database back" if self._database else "working again",
                max(0.0, now - self._since),
                self.failures,
            )
        self._since = None
        self.failures = 0


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the database (or the way to it) failed, rather than our code."""
    if isinstance(exc, OSError | StoreError):
        return True
    return type(exc).__module__.split(".")[0] in _DATABASE_MODULES


def _summary(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    cause = exc.__cause__ or exc.__context__
    if not first and cause is not None:
        return _summary(cause)
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__
