"""How often and how long to wait before re-running a failed run (pure maths)."""

from __future__ import annotations

import math
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class RetryPolicy(BaseModel):
    """Exponential back-off with jitter, and which error kinds are worth retrying.

    ``attempt`` is 1-based: the number of the attempt that just failed. Error
    kinds are short lower-case words chosen by executors (``timeout``,
    ``http_5xx``, ``invalid_input`` …); ``non_retryable`` always wins over ``retry_on``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=3, ge=1, le=100)
    initial_delay_s: float = Field(default=10.0, ge=0)
    backoff: float = Field(default=2.0, ge=1)
    max_delay_s: float = Field(default=3600.0, ge=0)
    #: Spread each delay by up to ± this fraction, so many failed runs do not retry in lockstep.
    jitter: float = Field(default=0.1, ge=0, le=1)
    retry_on: Literal["all"] | tuple[str, ...] = "all"
    non_retryable: tuple[str, ...] = ("invalid_input", "permission_denied", "not_configured")

    @field_validator("retry_on", "non_retryable", mode="before")
    @classmethod
    def _lower_kinds(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(str(kind).strip().lower() for kind in value)
        return value

    @model_validator(mode="after")
    def _cap_not_below_start(self) -> RetryPolicy:
        if self.max_delay_s < self.initial_delay_s:
            raise ValueError("max_delay_s must be at least initial_delay_s")
        return self

    def should_retry(self, attempt: int, error_kind: str) -> bool:
        """Whether a run whose attempt number ``attempt`` failed with ``error_kind`` goes again."""
        if attempt >= self.max_attempts:
            return False
        kind = error_kind.strip().lower()
        if kind in self.non_retryable:
            return False
        return self.retry_on == "all" or kind in self.retry_on

    def delay_for(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt ``attempt`` (deterministic for a seeded ``rng``).

        ``initial · backoff^(attempt-1)``, capped at ``max_delay_s``, then spread
        by ± ``jitter`` and capped again.
        """
        if attempt < 1:
            raise ValueError(f"attempt is 1-based, got {attempt}")
        base = self.initial_delay_s * self.backoff ** self._exponent(attempt)
        base = min(base, self.max_delay_s)
        spread = 1.0 + self.jitter * rng.uniform(-1.0, 1.0) if self.jitter else 1.0
        return max(0.0, min(base * spread, self.max_delay_s))

    def _exponent(self, attempt: int) -> int:
        # Never raise ``backoff`` further than the cap needs: 2.0 ** 5000 overflows.
        if self.backoff == 1 or self.initial_delay_s == 0:
            return 0
        needed = math.ceil(math.log(self.max_delay_s / self.initial_delay_s, self.backoff)) + 1
        return min(attempt - 1, max(needed, 0))
