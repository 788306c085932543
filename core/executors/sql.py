"""SQL jobs: one statement on a named connection, read-only by default, timed and capped.

Guarantee: read-only queries are safe to repeat; a ``write`` query runs at most
once per attempt, in one transaction (a retry runs it again). SQLite
connections open the file with ``mode=ro`` (read-only) and are interrupted at
the statement timeout; PostgreSQL (and Supabase) sessions start with
``default_transaction_read_only`` and ``statement_timeout`` set by the server.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import text

from core.actions import SqlAction, action_as
from core.errors import InvalidInput, JobFailed
from core.jobs import Job
from core.policy import ExecutionPolicy
from core.ports import ExecutionResult
from core.services.actions import connection_url

#: Cells longer than this are cut in the stored result and the table.
_CELL_CHARS = 200


class SqlExecutor:
    """Runs ``SqlAction`` jobs on the connections of ``KAIROS_SQL_CONNECTIONS``."""

    action_model = SqlAction

    def __init__(self, policy: ExecutionPolicy) -> None:
        self._policy = policy
        self._engines: dict[tuple[str, bool], AsyncEngine] = {}

    async def aclose(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()
        self._engines.clear()

    async def execute(self, job: Job) -> ExecutionResult:
        action = action_as(job.action, SqlAction)
        name, raw_url = connection_url(action, self._policy)
        url = make_url(raw_url)
        seconds = min(self._policy.sql_statement_timeout_seconds, job.timeout_seconds * 0.9)
        cap = self._policy.sql_row_cap
        started = time.perf_counter()
        backend = url.get_backend_name()
        if backend == "sqlite":
            columns, rows, more = await asyncio.to_thread(
                _sqlite_query, url, action.query, write=action.write, seconds=seconds, cap=cap
            )
        elif backend in ("postgresql", "postgres"):
            columns, rows, more = await self._pg_query(name, url, action, seconds, cap)
        else:
            raise InvalidInput(
                f"The connection {name!r} uses {backend}, which SQL jobs do not support.",
                hint="Use a PostgreSQL (Supabase) or SQLite connection.",
            )
        took = time.perf_counter() - started
        table = render_table(columns, rows)
        await job.log.write("stdout", table + ("\n(more rows not kept)" if more else "") + "\n")
        shown = f"{len(rows)}{'+' if more else ''} row(s)"
        return ExecutionResult(
            output=f"{shown} from {name} in {took:.2f} s",
            result={"columns": columns, "rows": rows, "truncated": more, "connection": name},
        )

    async def _pg_query(
        self, name: str, url: URL, action: SqlAction, seconds: float, cap: int
    ) -> tuple[list[str], list[list[Any]], bool]:
        engine = self._engine(name, url, write=action.write, seconds=seconds)
        try:
            async with asyncio.timeout(seconds + 5), engine.begin() as conn:
                result = await conn.execute(text(action.query))
                if not result.returns_rows:
                    return ["rows affected"], [[result.rowcount]], False
                columns = list(result.keys())
                fetched = result.fetchmany(cap + 1)
        except TimeoutError as exc:
            raise JobFailed(
                f"The query on {name!r} got no answer within {seconds + 5:g} s.",
                hint="Check that the database is reachable.",
            ) from exc
        except DBAPIError as exc:
            raise JobFailed(_pg_reason(name, exc, seconds), hint=_pg_hint(exc)) from exc
        except (SQLAlchemyError, OSError) as exc:
            raise JobFailed(f"The query on {name!r} failed: {exc}") from exc
        return columns, [_row(r) for r in fetched[:cap]], len(fetched) > cap

    def _engine(self, name: str, url: URL, *, write: bool, seconds: float) -> AsyncEngine:
        key = (name, write)
        if key not in self._engines:
            settings = {"statement_timeout": str(int(seconds * 1000))}
            if not write:
                settings["default_transaction_read_only"] = "on"
            self._engines[key] = create_async_engine(
                url.set(drivername="postgresql+asyncpg"),
                pool_pre_ping=True,
                connect_args={"server_settings": settings, "timeout": 10},
            )
        return self._engines[key]


def _sqlite_query(
    url: URL, query: str, *, write: bool, seconds: float, cap: int
) -> tuple[list[str], list[list[Any]], bool]:
    path = url.database or ""
    if not path or path == ":memory:":
        raise InvalidInput("A SQLite connection for SQL jobs needs a file path.")
    mode = "rw" if write else "ro"
    deadline = time.monotonic() + seconds
    try:
        conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=min(seconds, 5))
    except sqlite3.Error as exc:
        raise JobFailed(f"Cannot open the SQLite database {path}: {exc}.") from exc
    # Called every N virtual-machine steps: a true return interrupts the statement.
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    try:
        cursor = conn.execute(query)
        if cursor.description is None:
            conn.commit()
            return ["rows affected"], [[cursor.rowcount]], False
        columns = [d[0] for d in cursor.description]
        fetched = cursor.fetchmany(cap + 1)
        return columns, [_row(r) for r in fetched[:cap]], len(fetched) > cap
    except sqlite3.OperationalError as exc:
        if time.monotonic() > deadline:
            raise JobFailed(
                f"The query was stopped at the statement timeout ({seconds:g} s).",
                hint="Make it cheaper, or raise KAIROS_SQL_STATEMENT_TIMEOUT_SECONDS.",
            ) from exc
        hint = "This connection is read-only; set write=true on the job." if not write else None
        raise JobFailed(
            f"The query failed: {exc}.", hint=hint if "readonly" in str(exc) else None
        ) from exc
    except sqlite3.Error as exc:
        raise JobFailed(f"The query failed: {exc}.") from exc
    finally:
        conn.close()


def _row(row: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for value in row:
        if value is None or isinstance(value, bool | int | float):
            out.append(value)
        else:
            shown = str(value)
            out.append(shown if len(shown) <= _CELL_CHARS else shown[: _CELL_CHARS - 1] + "…")
    return out


def _pg_reason(name: str, exc: DBAPIError, seconds: float) -> str:
    words = str(exc.orig).split("\n", 1)[0]
    if "statement timeout" in words:
        return f"The query on {name!r} was stopped at the statement timeout ({seconds:g} s)."
    if "read-only transaction" in words:
        return f"The query on {name!r} tried to write, but SQL jobs are read-only by default."
    return f"The query on {name!r} failed: {words}"


def _pg_hint(exc: DBAPIError) -> str | None:
    if "read-only transaction" in str(exc.orig):
        return "Set write=true on the job if it really must change data."
    return None


def render_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, limit: int = 50) -> str:
    """A plain-text table (the chat and the CLI show it in a code block)."""
    shown = [["" if v is None else str(v) for v in row] for row in rows[:limit]]
    widths = [len(c) for c in columns]
    for row in shown:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=False)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) for row in shown]
    if len(rows) > limit:
        out.append(f"… {len(rows) - limit} more row(s)")
    return "\n".join(out)
