"""Duration estimates from history: similar titles, the same person, channel or chain.

A task's duration is the time from its creation to its completion (what a
team waits for). ``TaskEstimator`` scores every finished task of the history
by title similarity (rapidfuzz token ratios) and weighs the similar ones up
when they share the assignee, the channel or the workflow; the estimate is the
weighted median of their log-durations, the range the weighted 20th–80th
percentiles, and it says how many tasks it rests on. With too few similar
titles it falls back to the person's, then the channel's, then all tasks.
As work progresses (``elapsed``) only histories longer than what has already
passed count, so an estimate never says "done already" about open work.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rapidfuzz import fuzz, process

from core.insight.facts import RunFact, TaskFact
from core.insight.report import quantile

#: Title similarity (0–100) from which a past task counts as "like this one".
SIMILAR_FROM = 60.0
#: At most this many similar tasks are weighed.
NEIGHBOURS = 80
#: Fewer similar tasks than this: fall back to a wider group.
ENOUGH = 3
_SAME_PERSON = 1.5
_SAME_CHANNEL = 1.5
_SAME_WORKFLOW = 2.0


@dataclass(frozen=True, slots=True)
class Estimate:
    """A duration in hours with its likely range and what it rests on."""

    hours: float
    low: float
    high: float
    basis: int
    because: str

    def describe(self) -> str:
        return (
            f"about {hours_text(self.hours)} (likely {hours_text(self.low)}–"
            f"{hours_text(self.high)}), from {self.basis} {self.because}"
        )


def hours_text(hours: float) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _norm(title: str) -> str:
    return " ".join(title.lower().replace("'", " ").split())


def title_scores(title: str, titles: Sequence[str]) -> list[float]:
    """Similarity of ``title`` to each of ``titles`` (mean of token-set and token-sort ratios)."""
    query = _norm(title)
    a = process.cdist([query], titles, scorer=fuzz.token_set_ratio)[0]
    b = process.cdist([query], titles, scorer=fuzz.token_sort_ratio)[0]
    return [(float(x) + float(y)) / 2 for x, y in zip(a, b, strict=True)]


def _weighted_quantile(pairs: list[tuple[float, float]], q: float) -> float:
    """Quantile ``q`` of values weighted by weights, as (value, weight) pairs."""
    pairs = sorted(pairs)
    total = sum(w for _, w in pairs)
    acc = 0.0
    for value, weight in pairs:
        acc += weight
        if acc >= q * total:
            return value
    return pairs[-1][0]


def _log(task: TaskFact) -> float:
    return math.log(max(task.duration_hours or 0.0, 1 / 60))


#: Shrinks a person's or channel's effect towards none: ``n / (n + _SHRINK)``.
_SHRINK = 5


def _effects(
    done: Sequence[TaskFact], titles: Sequence[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Per person, then per channel: the median log-ratio of their durations to the usual.

    "Usual" is the median duration of tasks whose title starts with the same
    word (mostly the verb: "deploy", "review", "fix"): a cheap kind of work.
    """
    by_word: dict[str, list[float]] = {}
    for task, title in zip(done, titles, strict=True):
        by_word.setdefault(title.split(" ", 1)[0], []).append(_log(task))
    usual = {word: statistics.median(values) for word, values in by_word.items()}
    residual = [
        _log(t) - usual[title.split(" ", 1)[0]] for t, title in zip(done, titles, strict=True)
    ]
    person = _shrunk_medians(
        (t.assignees[0] if t.assignees else "", r) for t, r in zip(done, residual, strict=True)
    )
    after = [
        r - person.get(t.assignees[0] if t.assignees else "", 0.0)
        for t, r in zip(done, residual, strict=True)
    ]
    channel = _shrunk_medians((t.channel or "", r) for t, r in zip(done, after, strict=True))
    return person, channel


def _shrunk_medians(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    groups: dict[str, list[float]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return {
        key: statistics.median(values) * len(values) / (len(values) + _SHRINK)
        for key, values in groups.items()
        if key
    }


class TaskEstimator:
    """Estimates task durations from the finished tasks of a history."""

    def __init__(self, history: Sequence[TaskFact]) -> None:
        self._done = [t for t in history if t.duration_hours is not None and t.kind != "job"]
        self._titles = [_norm(t.title) for t in self._done]
        self._person, self._channel = _effects(self._done, self._titles)

    def _effect(self, task: TaskFact) -> float:
        """How much slower (log scale) than usual this task's person and channel are."""
        person = self._person.get(task.assignees[0], 0.0) if task.assignees else 0.0
        return person + self._channel.get(task.channel or "", 0.0)

    @property
    def size(self) -> int:
        return len(self._done)

    def estimate(
        self,
        title: str,
        *,
        assignee: str | None = None,
        channel: str | None = None,
        workflow: int | None = None,
        elapsed: float = 0.0,
        exclude: int | None = None,
    ) -> Estimate | None:
        """How long a task like this takes (``None`` with no history at all)."""
        if not self._done:
            return None
        scores = title_scores(title, self._titles)
        ranked = sorted(
            (
                (s, i)
                for i, s in enumerate(scores)
                if s >= SIMILAR_FROM and self._done[i].id != exclude
            ),
            reverse=True,
        )[:NEIGHBOURS]
        pool: list[tuple[TaskFact, float]] = []
        for score, i in ranked:
            past = self._done[i]
            weight = ((score - SIMILAR_FROM) / (100 - SIMILAR_FROM)) ** 2 + 0.05
            if assignee is not None and assignee in past.assignees:
                weight *= _SAME_PERSON
            if channel is not None and past.channel == channel:
                weight *= _SAME_CHANNEL
            if workflow is not None and past.workflow == workflow:
                weight *= _SAME_WORKFLOW
            pool.append((past, weight))
        because = "similar tasks"
        if len(pool) < ENOUGH:
            pool, because = self._fallback(assignee, channel, exclude)
        longer = [(t, w) for t, w in pool if (t.duration_hours or 0) > elapsed]
        if elapsed > 0 and len(longer) >= ENOUGH:
            pool = longer
        # Each past duration as if done by the asked person in the asked channel.
        asked = self._person.get(assignee or "", 0.0) + self._channel.get(channel or "", 0.0)
        logs = [(_log(t) - self._effect(t) + asked, w) for t, w in pool]
        mid = math.exp(_weighted_quantile(logs, 0.5))
        low = math.exp(_weighted_quantile(logs, 0.2))
        high = math.exp(_weighted_quantile(logs, 0.8))
        if elapsed > 0 and mid <= elapsed:
            mid, low, high = elapsed * 1.25, elapsed, max(high, elapsed * 1.5)
        return Estimate(hours=mid, low=low, high=high, basis=len(pool), because=because)

    def _fallback(
        self, assignee: str | None, channel: str | None, exclude: int | None
    ) -> tuple[list[tuple[TaskFact, float]], str]:
        others = [t for t in self._done if t.id != exclude] or self._done
        groups: list[tuple[str, list[TaskFact]]] = []
        if assignee is not None:
            groups.append((f"tasks of @{assignee}", [t for t in others if assignee in t.assignees]))
        if channel is not None:
            groups.append((f"tasks in #{channel}", [t for t in others if t.channel == channel]))
        for name, group in groups:
            if len(group) >= ENOUGH:
                return [(t, 1.0) for t in group], name
        return [(t, 1.0) for t in others], "finished tasks (none with a similar title)"

    def at_risk(self, task: TaskFact, now: datetime, *, horizon: timedelta) -> Estimate | None:
        """The estimate of an open task due within ``horizon`` that will likely be late."""
        if (
            task.due is None
            or task.completed_at is not None
            or not now <= task.due <= now + horizon
        ):
            return None
        elapsed = max(0.0, (now - task.created_at).total_seconds() / 3600)
        found = self.estimate(
            task.title,
            assignee=task.assignees[0] if task.assignees else None,
            channel=task.channel,
            workflow=task.workflow,
            elapsed=elapsed,
            exclude=task.id,
        )
        if found is None or found.basis < ENOUGH:
            return None
        expected = task.created_at + timedelta(hours=found.hours)
        return found if expected > task.due else None


@dataclass(frozen=True, slots=True)
class RunDistribution:
    """How long a job's successful runs take."""

    runs: int
    p50_ms: float
    p90_ms: float
    max_ms: float

    def describe(self) -> str:
        from core.insight.report import duration

        return (
            f"typically {duration(self.p50_ms)} (90% within {duration(self.p90_ms)}, "
            f"longest {duration(self.max_ms)}), from {self.runs} runs"
        )


def run_distribution(runs: Sequence[RunFact]) -> RunDistribution | None:
    """The duration distribution of the completed runs (``None`` without any)."""
    values = sorted(float(r.duration_ms) for r in runs if r.ok and r.duration_ms is not None)
    if not values:
        return None
    return RunDistribution(
        runs=len(values),
        p50_ms=quantile(values, 0.5) or 0.0,
        p90_ms=quantile(values, 0.9) or 0.0,
        max_ms=values[-1],
    )
