"""Database outages seen by background loops: back-off, one log line per change, a quick return.

A loop that talks to the database (firing, claiming runs, writing outcomes,
renewing leases, watching changes) must neither spin nor flood the log while the
database is away, and must not keep sleeping once it is back:

* each loop keeps a ``Backoff`` (exponential, jittered, capped at 30 s);
* its component's ``Outage`` logs once when the database goes away, once when
  the back-off reaches its cap and once when it is back ("database back after
  17 s"), counts every failure in ``Metrics.db_error``, and logs a traceback
  only for errors that do not look like an unavailable database (bugs);
* a ``Probe`` shared by the components of a process asks the database one cheap
  question a second while any of them is down, and wakes them all as soon as it
  answers — so the long back-off never delays the recovery by more than ~1 s.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

import sqlalchemy.exc as sa_exc

from core.errors import StoreError
from core.ports import Metrics, NullMetrics

log = logging.getLogger(__name__)

#: Longest wait between two attempts.
CAP_SECONDS = 30.0
#: First wait after a failure.
BASE_SECONDS = 0.5
#: How often the probe asks while the database is away.
PROBE_SECONDS = 1.0

#: SQLSTATE classes and codes that mean "not reachable right now": connection
#: exceptions, insufficient resources, operator intervention (shutdown, "cannot
#: connect now"), serialization/deadlock, and a database not accepting connections.
_TRANSIENT_CLASSES = ("08", "53", "57")
_TRANSIENT_CODES = frozenset({"40001", "40P01", "55000", "55P03"})
#: Modules whose errors without an SQLSTATE still mean "the database did not answer".
_DRIVER_MODULES = ("asyncpg", "aiosqlite", "sqlite3")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable or busy (worth retrying as is).

    A statement the database refuses (bad data, a constraint) is not: retrying it
    would fail forever.
    """
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(
        exc,
        OSError
        | TimeoutError
        | ConnectionError
        | sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.TimeoutError
        | sa_exc.DisconnectionError,
    ):
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str) and state:
            return state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_CODES
        if isinstance(current, OSError | ConnectionError | TimeoutError):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def is_database_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is an unavailable *database* — not a refused statement, and not
    another service's network error (an HTTP job's refused connection is that job's)."""
    if not is_transient(exc):
        return False
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StoreError | sa_exc.SQLAlchemyError):
            return True
        if type(current).__module__.split(".")[0] in _DRIVER_MODULES:
            return True
        current = current.__cause__ or current.__context__
    return False


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the database or the way to it (not from our code)."""
    if is_transient(exc) or isinstance(exc, StoreError | sa_exc.SQLAlchemyError):
        return True
    return type(exc).__module__.split(".")[0] in _DRIVER_MODULES


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
        ceiling = min(self.cap, self.base * 2.0 ** min(self.failures, 32))
        self.failures += 1
        return ceiling * self._rng.uniform(0.5, 1.0)

    @property
    def capped(self) -> bool:
        return self.base * 2.0 ** min(max(self.failures - 1, 0), 32) >= self.cap

    def reset(self) -> None:
        self.failures = 0


class Probe:
    """While any component is down: one cheap query a second; wakes them all when it answers."""

    def __init__(
        self,
        ping: Callable[[], Awaitable[object]],
        *,
        interval: float = PROBE_SECONDS,
        name: str = "kairos-db-probe",
    ) -> None:
        self._ping = ping
        self._interval = interval
        self._name = name
        self._waiting: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None

    def watch(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` (once) when the database answers again."""
        self._waiting.append(wake)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self._name)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._ping()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("database probe: still unavailable (%s)", _first_line(exc))
                continue
            waiting, self._waiting = self._waiting, []
            for wake in waiting:
                wake()
            if not self._waiting:
                return

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._task = None


class Outage:
    """Whether the database answers ``component``; logs state changes only.

    ``on_back`` is called when the shared ``probe`` sees the database answer
    again while this component is down: it should wake the component's sleeping
    loops (their next attempt then comes at once, not at the end of the back-off).
    """

    def __init__(
        self,
        component: str,
        *,
        metrics: Metrics | None = None,
        cap: float = CAP_SECONDS,
        base: float = BASE_SECONDS,
        logger: logging.Logger | None = None,
        rng: random.Random | None = None,
        probe: Probe | None = None,
        on_back: Callable[[], None] | None = None,
    ) -> None:
        self.component = component
        self.cap = cap
        self._metrics = metrics or NullMetrics()
        self._log = logger or log
        self._backoff = Backoff(base=base, cap=cap, rng=rng)
        self._probe = probe
        self._on_back = on_back
        self._down_since: float | None = None
        self._capped = False
        self._watched = False
        self._database = True
        self.failures = 0

    @property
    def down(self) -> bool:
        """Whether the last attempt failed."""
        return self._down_since is not None

    def failed(self, exc: BaseException, what: str, backoff: Backoff | None = None) -> float:
        """Count a failure of ``what``; returns how long to wait before retrying.

        ``backoff`` is the calling loop's own (components with several loops);
        without it the component's single back-off is used.
        """
        backoff = backoff or self._backoff
        self._metrics.db_error(self.component)
        self.failures += 1
        delay = backoff.next()
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._capped = False
            database = self._database = is_database_error(exc)
            self._log.warning(
                "%s: %s (%s while %s) — retrying with back-off up to every %g s",
                self.component,
                "database unavailable" if database else "failing",
                _summary(exc),
                what,
                self.cap,
                exc_info=exc if not database else None,
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
            self._log.debug("%s: %s failed again: %s", self.component, what, _summary(exc))
        if self._probe is not None and self._on_back is not None and not self._watched:
            self._watched = True
            self._probe.watch(self._back)
        return delay

    def _back(self) -> None:
        self._watched = False
        if self._on_back is not None and self.down:
            self._on_back()

    def ok(self, backoff: Backoff | None = None) -> None:
        """The database answered: log the recovery if it had been away."""
        (backoff or self._backoff).reset()
        if self._down_since is not None:
            self._log.warning(
                "%s: %s after %.1f s (%d failed attempt(s))",
                self.component,
                "database back" if self._database else "working again",
                time.monotonic() - self._down_since,
                self.failures,
            )
        self._down_since = None
        self._capped = False
        self.failures = 0


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else ""


def _summary(exc: BaseException) -> str:
    first = _first_line(exc).strip()
    cause = exc.__cause__ or exc.__context__
    if not first and cause is not None:
        return _summary(cause)
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__
