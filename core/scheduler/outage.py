"""Database outages seen by a background loop: back-off delays and one log line per change.

A loop that talks to the database (claiming runs, writing outcomes, renewing
leases) must neither spin nor flood the log while the database is away. Each
loop keeps its own ``Backoff`` (exponential, jittered, capped); the component's
``Outage`` logs once when the database goes away, once when the back-off
reaches its cap, and once when it is back, and counts every failure in
``Metrics.db_error``. Tracebacks are logged only for errors that do not look
like an unavailable database (those are bugs worth reading once).
"""

from __future__ import annotations

import logging
import random
import time

import sqlalchemy.exc as sa_exc

from core.ports import Metrics, NullMetrics

log = logging.getLogger(__name__)

#: Longest wait between two attempts.
CAP_SECONDS = 30.0
#: First wait after a failure.
BASE_SECONDS = 0.5


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable or busy (worth retrying as is)."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        OSError
        | TimeoutError
        | ConnectionError
        | sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.TimeoutError
        | sa_exc.DisconnectionError,
    )


class Backoff:
    """Exponential delays with jitter: ``base · 2ⁿ`` up to ``cap``, each in [½, 1] of that."""

    def __init__(
        self,
        *,
        base: float = BASE_SECONDS,
        cap: float = CAP_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        """The wait before the next attempt (and count this failure)."""
        ceiling = min(self.cap, self.base * 2.0**self.failures)
        self.failures += 1
        return ceiling * self._rng.uniform(0.5, 1.0)

    @property
    def capped(self) -> bool:
        return self.base * 2.0 ** max(self.failures - 1, 0) >= self.cap

    def reset(self) -> None:
        self.failures = 0


class Outage:
    """Whether the database answers ``component``; logs state changes only."""

    def __init__(
        self,
        component: str,
        *,
        metrics: Metrics | None = None,
        cap: float = CAP_SECONDS,
        logger: logging.Logger | None = None,
    ) -> None:
        self.component = component
        self.cap = cap
        self._metrics = metrics or NullMetrics()
        self._log = logger or log
        self._down_since: float | None = None
        self._capped = False

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, exc: BaseException, backoff: Backoff, what: str) -> float:
        """Count a failure of ``what``; returns how long to wait before retrying."""
        self._metrics.db_error(self.component)
        delay = backoff.next()
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._capped = False
            reason = f"{type(exc).__name__}: {_first_line(exc)}"
            self._log.warning(
                "%s: database unavailable (%s while %s) — retrying with back-off up to every %g s",
                self.component,
                reason.strip(),
                what,
                self.cap,
                exc_info=not is_transient(exc),
            )
        elif backoff.capped and not self._capped:
            self._capped = True
            self._log.warning(
                "%s: database still unavailable after %.0f s — retrying every %g s",
                self.component,
                time.monotonic() - self._down_since,
                self.cap,
            )
        else:
            self._log.debug("%s: %s failed again: %s", self.component, what, _first_line(exc))
        return delay

    def ok(self) -> None:
        """The database answered: log the recovery if it had been away."""
        if self._down_since is not None:
            self._log.warning(
                "%s: database back after %.1f s",
                self.component,
                time.monotonic() - self._down_since,
            )
            self._down_since = None
            self._capped = False


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""
