"""Driver-level SQL for the run store's hot paths, on SQLite and PostgreSQL alike.

A burst of thousands of fires has to become rows in a few milliseconds. The ORM
and even Core's per-row parameter processing cost more than SQLite itself, so
the hot statements are written once here as plain SQL with multi-row ``VALUES``
(one statement per few thousand rows) and sent with ``exec_driver_sql``. Both
databases accept the same text apart from placeholders (``?`` / ``$n``), casts
that PostgreSQL needs for untyped ``VALUES`` columns, and the datetime format:
SQLite stores naive UTC text exactly as SQLAlchemy's ``DateTime`` does
(``YYYY-MM-DD HH:MM:SS.ffffff``), so rows written here and rows written through
the models compare and sort the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

#: PostgreSQL and asyncpg allow 32,767 parameters per statement; SQLite 32,766.
MAX_PARAMS = 30_000


def sqlite_text(value: datetime) -> str:
    """An aware datetime as SQLAlchemy's SQLite ``DateTime`` text (naive UTC)."""
    return _utc_text(value.astimezone(UTC))


@lru_cache(maxsize=8192)
def _utc_text(v: datetime) -> str:
    # Cached: a burst writes the same instants (its due second, "now") thousands of
    # times. Keyed by the UTC value only: UTC has no folds, so equal keys are equal
    # instants (a zone's fold=0/fold=1 twins compare and hash equal, UTC's cannot).
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
        f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
    )


@lru_cache(maxsize=8192)
def _parse_sqlite(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class RawSql:
    """Placeholders, casts and datetime conversion for one dialect."""

    def __init__(self, dialect_name: str) -> None:
        self.pg = dialect_name == "postgresql"

    # --- values -----------------------------------------------------------

    def dt(self, value: datetime | None) -> Any:
        """A datetime parameter in the driver's form."""
        if value is None:
            return None
        return value.astimezone(UTC) if self.pg else sqlite_text(value)

    def from_db(self, value: Any) -> datetime | None:
        """A datetime result in aware UTC form."""
        if value is None:
            return None
        if isinstance(value, str):
            return _parse_sqlite(value)
        assert isinstance(value, datetime)
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    # --- statement building --------------------------------------------------

    def rows_per_statement(self, width: int) -> int:
        return max(1, MAX_PARAMS // max(width, 1))

    def values(
        self, rows: Sequence[Sequence[Any]], casts: Sequence[str], start: int = 1
    ) -> tuple[str, list[Any]]:
        """``(…),(…)`` with placeholders from ``start``, and the flat parameter list.

        ``casts`` give PostgreSQL the column types of a free-standing ``VALUES``
        list (``"int"``, ``"timestamptz"``, ``"text"``; ``""`` for none).
        """
        if not self.pg:
            # Every row has the same "(?,?,…)": build it once, not value by value.
            group = "(" + ",".join("?" * len(casts)) + ")"
            for row in rows:
                if len(row) != len(casts):
                    raise ValueError(f"a row of {len(row)} values for {len(casts)} columns")
            return ",".join([group] * len(rows)), list(chain.from_iterable(rows))
        params: list[Any] = []
        groups: list[str] = []
        n = start
        for row in rows:
            marks = []
            for value, cast in zip(row, casts, strict=True):
                if self.pg:
                    marks.append(f"${n}::{cast}" if cast else f"${n}")
                else:
                    marks.append("?")
                params.append(value)
                n += 1
            groups.append("(" + ",".join(marks) + ")")
        return ",".join(groups), params

    def marks(self, count: int, start: int = 1) -> str:
        """``?,?,?`` or ``$1,$2,$3``."""
        if self.pg:
            return ",".join(f"${i}" for i in range(start, start + count))
        return ",".join("?" * count)

    def mark(self, index: int) -> str:
        return f"${index}" if self.pg else "?"

    async def run(
        self, conn: AsyncConnection, sql: str, params: Sequence[Any] = ()
    ) -> list[Row[Any]]:
        """Execute and return all rows (an empty list for statements without rows)."""
        result = await conn.exec_driver_sql(sql, tuple(params))
        return list(result.all()) if result.returns_rows else []
