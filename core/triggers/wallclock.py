"""Wall-clock triggers: fire times computed in local time, then placed on the time line.

Kairos' daylight-saving policy lives here and nowhere else:

* wall-clock times are kept across DST changes ("every day at 09:00" fires at
  09:00 local on both sides of a change);
* a wall-clock time inside a spring-forward gap fires at the first valid instant
  after the gap (``GapPolicy.SHIFT``) or not at all for that occurrence
  (``GapPolicy.SKIP``);
* a wall-clock time repeated by a fall-back fold fires once, at its first
  occurrence (``fold=0``).

Subclasses only say which *naive local* wall-clock time comes next; this base
class maps those to instants. That keeps cron and RRULE consistent by
construction, and it is why APScheduler's own zone handling (which in 3.11
returns non-existent times in gaps and fires twice in folds) is not used.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from core.schedule import GapPolicy

_ONE_US = timedelta(microseconds=1)

#: Wall-clock candidates examined per call before giving up. Only folds (an
#: ``after`` in the repeated hour) and skipped gaps make us look past the first
#: candidate; a minutely schedule in a 24 h gap (Samoa, 2011) needs 1440.
_MAX_STEPS = 100_000


def local_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall-clock reading of an aware ``instant`` in ``zone``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def to_instant(wall: datetime, zone: ZoneInfo, gap_policy: GapPolicy) -> datetime | None:
    """Place a naive local wall-clock time on the time line under the DST policy.

    Returns an aware datetime in ``zone`` (``fold=0`` for a repeated time), the
    end of the gap for a non-existent time under ``SHIFT``, or ``None`` under ``SKIP``.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    placed = first.astimezone(UTC).astimezone(zone)
    if placed.replace(tzinfo=None) == wall:
        return placed
    if gap_policy is GapPolicy.SKIP:
        return None
    return gap_end(wall, zone)


def gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first valid instant after the gap that swallows the naive ``wall`` time.

    PEP 495 reads a non-existent time with the offset before the change
    (``fold=0``) or after it (``fold=1``); the change itself lies between those
    two readings. ``zoneinfo`` has no public transition API, so we bisect on
    whole seconds (transitions are on whole seconds; ~12 steps for a 1 h gap).
    """
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # still old offset
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)  # already new offset
    lo, hi = int(before.timestamp()), int(after.timestamp())
    old_offset = datetime.fromtimestamp(lo, zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == old_offset:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, zone)


def as_instant(value: datetime, zone: ZoneInfo) -> datetime:
    """An aware datetime as is; a naive one read as local wall-clock time in ``zone``."""
    if value.tzinfo is not None:
        return value
    placed = to_instant(value, zone, GapPolicy.SHIFT)
    assert placed is not None  # SHIFT always places
    return placed


class WallClockTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 is untyped
    """An APScheduler trigger whose fire times are local wall-clock times in a zone.

    ``start``/``end`` bound the fire times (inclusive, as instants).
    """

    def __init__(
        self,
        *,
        timezone: ZoneInfo,
        gap_policy: GapPolicy = GapPolicy.SHIFT,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> None:
        self.timezone = timezone
        self.gap_policy = gap_policy
        # Kept in UTC: see next_after.
        self.start_date = start.astimezone(UTC) if start is not None else None
        self.end_date = end.astimezone(UTC) if end is not None else None

    @abstractmethod
    def next_wall_after(self, wall: datetime) -> datetime | None:
        """The first naive local wall-clock fire time strictly after naive ``wall``."""

    def next_after(self, after: datetime) -> datetime | None:
        """The first fire instant strictly after the aware instant ``after``."""
        # Compare in UTC only: Python compares two datetimes of the *same* zone by
        # wall clock, ignoring ``fold``, which is exactly wrong in a DST fold.
        after = after.astimezone(UTC)
        if self.start_date is not None and after < self.start_date:
            after = self.start_date - _ONE_US
        cursor = local_wall(after, self.timezone)
        for _ in range(_MAX_STEPS):
            wall = self.next_wall_after(cursor)
            if wall is None:
                return None
            placed = to_instant(wall, self.timezone, self.gap_policy)
            if placed is None:
                cursor = wall
                continue
            placed_utc = placed.astimezone(UTC)
            if self.end_date is not None and placed_utc > self.end_date:
                return None
            # ``placed <= after`` happens when ``after`` is in the second pass of a
            # fold (its wall times already fired in the first pass) or when several
            # gap times shift onto one instant: both are the "fire once" rule.
            if placed_utc > after:
                return placed
            cursor = wall
        raise RuntimeError(f"no fire time found within {_MAX_STEPS} steps after {after}")

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """APScheduler's contract: the first fire after the previous one, else at/after now."""
        if previous_fire_time is not None:
            # Same rule as APScheduler's CronTrigger: resume after the previous fire,
            # unless the clock went backwards (then from now).
            previous, now = previous_fire_time.astimezone(UTC), now.astimezone(UTC)
            bound = previous if now >= previous else now - _ONE_US
        else:
            bound = now.astimezone(UTC) - _ONE_US
        return self.next_after(bound)
