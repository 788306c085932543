"""What operators ask the database: is the schema current, how many runs wait or run.

Cheap by design — ``/readyz`` and ``/metrics`` call these on every probe and
scrape: one indexed ``GROUP BY`` over ``runs.status`` (``ix_runs_claim``) and
one read of Alembic's version table.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.models import Run
from core.store.base import StoreBase


class OperationsStore(StoreBase):
    """Counts and schema state for health checks and metrics."""

    async def run_counts(self, statuses: Iterable[str]) -> dict[str, int]:
        """How many runs are in each of ``statuses`` (0 for none)."""
        wanted = list(statuses)
        status: sa.ColumnClause[str] = sa.column("status")
        query = (
            sa.select(status, sa.func.count())
            .select_from(sa.table(Run.__tablename__, status))
            .where(status.in_(wanted))
            .group_by(status)
        )
        async with self._session() as session:
            rows = (await session.execute(query)).all()
        counts = dict.fromkeys(wanted, 0)
        counts.update({str(name): int(count) for name, count in rows})
        return counts

    async def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (``None``: never migrated)."""

        def read(connection: Connection) -> str | None:
            # Alembic's version table read directly: ``MigrationContext`` logs two
            # INFO lines per call, i.e. per readiness probe.
            if not sa.inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

        async with self._session() as session:
            connection = await session.connection()
            return await connection.run_sync(read)
