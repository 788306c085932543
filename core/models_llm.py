"""What each call to the language model cost (``core.store.llm`` reads and writes it).

One row per HTTP request to the model, retries included: the daily token budget
of a workspace is the sum of these rows, so every request that consumed tokens
is counted.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UtcDateTime


class LlmCall(SQLModel, table=True):
    """One request to the model: who for, what for, tokens, cache reads, latency."""

    __tablename__ = "llm_calls"

    id: int | None = Field(default=None, primary_key=True)
    #: ``None`` for calls made outside a workspace (``kairos parse --parser claude``).
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id", index=True)
    at: datetime = Field(sa_column=sa.Column(UtcDateTime(), nullable=False, index=True))
    #: What the call was for: ``parse``, ``ai_prompt``, ``plan``, ``rerank``…
    purpose: str = Field(max_length=32)
    model: str = Field(max_length=100)
    #: ``ok``, ``invalid`` (the answer failed validation), ``error`` (no usable answer).
    outcome: str = Field(max_length=16)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    latency_ms: int = 0
