"""Per-task run statistics: success rate, average and p95 duration, failures."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from core.enums import RunStatus
from core.models import Run

_ENDED = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.RETRYING})


@dataclass(frozen=True, slots=True)
class RunStats:
    """Figures over the ended attempts of some runs (retried attempts count as failures)."""

    attempts: int
    completed: int
    failed: int
    average_ms: float | None
    p95_ms: float | None

    @property
    def success_rate(self) -> float | None:
        return self.completed / self.attempts if self.attempts else None

    @classmethod
    def of(cls, runs: Iterable[Run]) -> RunStats:
        ended = [r for r in runs if RunStatus(r.status) in _ENDED]
        durations = sorted(r.duration_ms for r in ended if r.duration_ms is not None)
        completed = sum(1 for r in ended if r.status == RunStatus.COMPLETED)
        return cls(
            attempts=len(ended),
            completed=completed,
            failed=len(ended) - completed,
            average_ms=sum(durations) / len(durations) if durations else None,
            p95_ms=_percentile(durations, 0.95),
        )

    def describe(self) -> str:
        if not self.attempts:
            return "no finished runs yet"
        rate = self.success_rate or 0.0
        parts = [
            f"{rate:.0%} succeeded ({self.completed}/{self.attempts})",
            f"{self.failed} failed",
        ]
        if self.average_ms is not None and self.p95_ms is not None:
            parts.append(f"avg {_seconds(self.average_ms)}, p95 {_seconds(self.p95_ms)}")
        return ", ".join(parts)


def _percentile(values: list[int], q: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    rank = max(1, math.ceil(q * len(values)))
    return float(values[rank - 1])


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms < 60_000 else f"{ms / 60_000:.1f} min"
