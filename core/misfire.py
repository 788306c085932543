"""What to do with fires that were missed while Kairos was down (pure, bounded).

A fire is *late* when it is due but still inside the grace window (``now - at
<= grace``) and *misfired* when it is older. Policies:

* ``skip`` — run the late fires, record every misfired one as skipped;
* ``run_once`` — run only the newest missed fire, record the others as
  skipped ("coalesced");
* ``catch_up`` — run every missed fire, but at most ``max_runs`` (the newest
  ones): a task down for a year at every-10-seconds must not produce 3 million
  runs. Older ones are recorded as skipped, individually up to
  ``max_records``, beyond that only counted.

The input may be an iterator; it is consumed once with bounded memory, and
reading stops after ``max_scan`` items.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core.enums import MisfirePolicy, RunTrigger

MAX_CATCH_UP_RUNS = 1000
MAX_SKIP_RECORDS = 1000
MAX_SCAN = 5_000_000  # a year of 10-second fires fits; memory stays bounded anyway


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """A missed fire to run now, and why it runs (on schedule if late, else misfire)."""

    at: datetime
    trigger: RunTrigger


@dataclass(frozen=True, slots=True)
class MisfireDecision:
    """Missed fires to run (oldest first) and fires to record as skipped, with reasons.

    ``unlisted`` counts further skipped fires not listed in ``skip`` (bounded output);
    ``scan_stopped`` is true when the input was longer than ``max_scan`` and the rest
    was not read.
    """

    runs: list[PlannedRun] = field(default_factory=list)
    skip: list[tuple[datetime, str]] = field(default_factory=list)
    unlisted: int = 0
    scan_stopped: bool = False

    @property
    def run(self) -> list[datetime]:
        """The fire times to run, oldest first."""
        return [planned.at for planned in self.runs]


def _seconds(grace: timedelta | float) -> float:
    return grace.total_seconds() if isinstance(grace, timedelta) else float(grace)


def _late_by(at: datetime, now: datetime) -> float:
    # Via UTC: subtracting two datetimes of the same zone ignores ``fold``.
    return (now.astimezone(UTC) - at.astimezone(UTC)).total_seconds()


def _late_trigger(at: datetime, now: datetime, grace_s: float) -> RunTrigger:
    return RunTrigger.SCHEDULE if _late_by(at, now) <= grace_s else RunTrigger.MISFIRE


class _Skips:
    """Skipped fires: listed up to a limit, counted beyond it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.listed: list[tuple[datetime, str]] = []
        self.unlisted = 0

    def add(self, at: datetime, reason: str) -> None:
        if len(self.listed) < self.limit:
            self.listed.append((at, reason))
        else:
            self.unlisted += 1


def decide(
    policy: MisfirePolicy,
    grace: timedelta | float,
    missed: Iterable[datetime],
    now: datetime,
    *,
    max_runs: int = MAX_CATCH_UP_RUNS,
    max_records: int = MAX_SKIP_RECORDS,
    max_scan: int = MAX_SCAN,
) -> MisfireDecision:
    """Decide which missed fires (oldest first, all ``<= now``) run and which are skipped.

    ``grace`` is a ``timedelta`` or seconds. Fires after ``now`` are not missed
    and are ignored.
    """
    if max_runs < 1:
        raise ValueError("max_runs must be at least 1")
    grace_s = _seconds(grace)
    skips = _Skips(max_records)
    runs: list[PlannedRun] = []
    # catch_up keeps the newest max_runs; run_once the newest one; skip runs late ones.
    keep: deque[datetime] = deque()
    keep_limit = {MisfirePolicy.CATCH_UP: max_runs, MisfirePolicy.RUN_ONCE: 1}.get(policy, 0)
    scanned = 0
    scan_stopped = False
    for at in missed:
        if scanned >= max_scan:
            scan_stopped = True
            break
        scanned += 1
        late_s = _late_by(at, now)
        if late_s < 0:
            continue
        if policy is MisfirePolicy.SKIP:
            if late_s <= grace_s:
                runs.append(PlannedRun(at, RunTrigger.SCHEDULE))
            else:
                skips.add(
                    at,
                    f"misfired: outside grace window (late by {late_s:.0f}s, grace {grace_s:.0f}s)",
                )
            continue
        keep.append(at)
        if len(keep) > keep_limit:
            dropped = keep.popleft()
            if policy is MisfirePolicy.RUN_ONCE:
                skips.add(dropped, "misfired: coalesced into one run for the latest missed fire")
            else:
                skips.add(dropped, f"misfired: catch-up is limited to the latest {max_runs} runs")
    runs.extend(PlannedRun(at, _late_trigger(at, now, grace_s)) for at in keep)
    return MisfireDecision(
        runs=runs, skip=skips.listed, unlisted=skips.unlisted, scan_stopped=scan_stopped
    )
