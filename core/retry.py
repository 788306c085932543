"""How often and how long to wait before re-running a failed run (pure maths)."""

from __future__ import annotations

import math
import random
from typing import Any, Literal

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
        base = self._capped_base(attempt)
        spread = 1.0 + self.jitter * rng.uniform(-1.0, 1.0) if self.jitter else 1.0
        return max(0.0, min(base * spread, self.max_delay_s))

    def _capped_base(self, attempt: int) -> float:
        # In log space: ``backoff ** attempt`` overflows floats long before the cap
        # stops mattering (2.0 ** 1100, or any power over a denormal initial delay).
        if self.initial_delay_s == 0:
            return 0.0
        log_base = math.log(self.initial_delay_s) + (attempt - 1) * math.log(self.backoff)
        if self.max_delay_s == 0 or log_base >= math.log(self.max_delay_s):
            return self.max_delay_s
        growth_log = (attempt - 1) * math.log(self.backoff)
        # Exact powers where floats allow (10·2³ is 80, not 80.00000000000001).
        exact = growth_log < 700
        base = self.initial_delay_s * self.backoff ** (attempt - 1) if exact else math.exp(log_base)
        return min(base, self.max_delay_s)


def error_kind(exc: BaseException) -> str:
    """The retry policies' name for what ended an attempt (the worker's classification).

    A missing executor, bad input or a refused permission never heals by retrying.
    """
    from core.errors import InvalidInput, NotConfigured, PermissionDenied

    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, NotConfigured):
        return "not_configured"
    if isinstance(exc, InvalidInput):
        return "invalid_input"
    if isinstance(exc, PermissionDenied):
        return "permission_denied"
    return "error"


def will_retry(policy_data: dict[str, Any] | None, attempt: int, kind: str) -> bool:
    """Whether attempt ``attempt`` failing with ``kind`` is followed by another attempt."""
    policy = RetryPolicy.model_validate(policy_data) if policy_data else RetryPolicy()
    return policy.should_retry(attempt, kind)
