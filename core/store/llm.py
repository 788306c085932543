"""Usage of the language model: one row per request, sums for budgets and reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlmodel import SQLModel, col

from core.models_llm import LlmCall
from core.store.base import StoreBase, new_id

_CALLS: sa.Table = SQLModel.metadata.tables["llm_calls"]


@dataclass(frozen=True, slots=True)
class LlmUsageRow:
    """Usage summed over a day, a workspace and a model (``kairos llm usage``)."""

    day: str
    workspace_id: int | None
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    mean_latency_ms: int


class LlmUsageStore(StoreBase):
    """Writes a row per model request and answers "how many tokens today?"."""

    async def record_llm_call(self, call: LlmCall) -> int:
        """Append ``call``; returns its id."""
        values = call.model_dump(exclude={"id"})
        async with self._session() as session:
            result = cast("CursorResult[Any]", await session.execute(sa.insert(_CALLS), values))
            return new_id(result)

    async def llm_tokens_since(self, *, workspace_id: int | None, since: datetime) -> int:
        """Tokens (in + out + cache reads and writes) a workspace used since ``since``."""
        c = _CALLS.c
        owner = c.workspace_id.is_(None) if workspace_id is None else c.workspace_id == workspace_id
        total = sa.func.coalesce(
            sa.func.sum(
                c.input_tokens + c.output_tokens + c.cache_read_tokens + c.cache_write_tokens
            ),
            0,
        )
        async with self._session() as session:
            value = await session.scalar(sa.select(total).where(owner, c.at >= since))
        return int(value or 0)

    async def llm_usage(
        self, *, since: datetime, workspace_id: int | None = None
    ) -> Sequence[LlmUsageRow]:
        """Per day, workspace and model since ``since`` (UTC days), oldest first."""
        query = sa.select(LlmCall).where(col(LlmCall.at) >= since).order_by(col(LlmCall.at))
        if workspace_id is not None:
            query = query.where(col(LlmCall.workspace_id) == workspace_id)
        async with self._session() as session:
            calls = list((await session.execute(query)).scalars())
        sums: dict[tuple[str, int | None, str], list[int]] = {}
        for call in calls:
            key = (call.at.date().isoformat(), call.workspace_id, call.model)
            acc = sums.setdefault(key, [0] * 6)
            for i, value in enumerate(
                (
                    1,
                    call.input_tokens,
                    call.output_tokens,
                    call.cache_read_tokens,
                    call.cache_write_tokens,
                    call.latency_ms,
                )
            ):
                acc[i] += value
        return [
            LlmUsageRow(
                day=day,
                workspace_id=ws,
                model=model,
                calls=acc[0],
                input_tokens=acc[1],
                output_tokens=acc[2],
                cache_read_tokens=acc[3],
                cache_write_tokens=acc[4],
                mean_latency_ms=acc[5] // acc[0],
            )
            for (day, ws, model), acc in sums.items()
        ]

    async def audit_count_since(self, *, workspace_id: int, action: str, since: datetime) -> int:
        """How many audit events ``action`` the workspace has since ``since`` (AI-created tasks)."""
        audit = SQLModel.metadata.tables["audit_events"].c
        query = sa.select(sa.func.count()).where(
            audit.workspace_id == workspace_id, audit.action == action, audit.at >= since
        )
        async with self._session() as session:
            return int(await session.scalar(query) or 0)
