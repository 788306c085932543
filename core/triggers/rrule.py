"""RFC 5545 RRULEs on the local wall clock, computed by ``dateutil.rrule``.

Occurrences are generated as naive local wall-clock times (``dtstart`` is local)
and placed on the time line by ``WallClockTrigger``, so DST is handled by the
one Kairos policy. We parse the RRULE text ourselves (rather than ``rrulestr``)
to give precise errors, to accept ``UNTIL`` in UTC or local time, and to pin the
parts RFC 5545 derives from DTSTART so that ``dtstart`` can be moved forward by
whole periods: dateutil walks from DTSTART on every query, which would make a
years-old daily rule cost milliseconds per call.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from dateutil import rrule as du

from core.errors import InvalidSchedule
from core.schedule import GapPolicy
from core.triggers.wallclock import WallClockTrigger

_Freq = Literal[0, 1, 2, 3, 4, 5, 6]
_FREQS: dict[str, _Freq] = {
    "YEARLY": du.YEARLY,
    "MONTHLY": du.MONTHLY,
    "WEEKLY": du.WEEKLY,
    "DAILY": du.DAILY,
    "HOURLY": du.HOURLY,
    "MINUTELY": du.MINUTELY,
}
_WEEKDAYS = {
    "MO": du.MO,
    "TU": du.TU,
    "WE": du.WE,
    "TH": du.TH,
    "FR": du.FR,
    "SA": du.SA,
    "SU": du.SU,
}
# name → (dateutil keyword, lowest, highest, negatives allowed)
_INT_LISTS: dict[str, tuple[str, int, int, bool]] = {
    "BYMONTH": ("bymonth", 1, 12, False),
    "BYMONTHDAY": ("bymonthday", 1, 31, True),
    "BYYEARDAY": ("byyearday", 1, 366, True),
    "BYWEEKNO": ("byweekno", 1, 53, True),
    "BYHOUR": ("byhour", 0, 23, False),
    "BYMINUTE": ("byminute", 0, 59, False),
    "BYSECOND": ("bysecond", 0, 59, False),
    "BYSETPOS": ("bysetpos", 1, 366, True),
}
_KNOWN = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "WKST", *_INT_LISTS}
_BYDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")
_HINT = "Example: 'FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=0' (see RFC 5545)."
#: Rebase dtstart in steps of this many periods: small enough that dateutil walks
#: only a few periods per query (a month costs ~4 µs, building a rule ~11 µs),
#: large enough that consecutive queries share the rebased rule.
_REBASE_STEP = {
    du.MINUTELY: 60,
    du.HOURLY: 24,
    du.DAILY: 8,
    du.WEEKLY: 2,
    du.MONTHLY: 1,
    du.YEARLY: 1,
}
#: A 400-year Gregorian cycle at the top of the calendar: dateutil stops at year
#: 9999, which bounds the "does this rule ever fire" probe.
_PROBE_FROM_YEAR = 9599


def _bad(rule: str, problem: str) -> InvalidSchedule:
    return InvalidSchedule(f"Invalid RRULE {rule!r}: {problem}.", hint=_HINT)


def _int(rule: str, name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _bad(rule, f"{name} needs a whole number, got {text!r}") from None


class ParsedRule:
    """An RRULE's dateutil keywords, plus its ``UNTIL`` kept apart (it may be UTC)."""

    def __init__(self, text: str) -> None:
        self.text = text
        body = text.strip()
        if body.upper().startswith("RRULE:"):
            body = body[len("RRULE:") :]
        if not body or "\n" in body or ":" in body:
            raise _bad(
                text,
                "expected one RRULE line such as 'FREQ=DAILY;BYHOUR=9' "
                "(DTSTART, EXDATE and RDATE lines are not supported)",
            )
        parts: dict[str, str] = {}
        for item in filter(None, body.split(";")):
            name, eq, value = item.partition("=")
            name = name.strip().upper()
            if not eq or not value.strip():
                raise _bad(text, f"part {item!r} is not NAME=VALUE")
            if name not in _KNOWN:
                raise _bad(text, f"{name} is not supported")
            if name in parts:
                raise _bad(text, f"{name} is given twice")
            parts[name] = value.strip().upper()
        self.names = frozenset(parts)
        self.kwargs: dict[str, Any] = {}
        self.until_text = parts.get("UNTIL")
        freq_text = parts.get("FREQ")
        if freq_text is None:
            raise _bad(text, "FREQ is missing")
        if freq_text not in _FREQS:
            raise _bad(
                text,
                f"FREQ={freq_text} is not supported "
                "(use MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY)",
            )
        self.freq: _Freq = _FREQS[freq_text]
        self.interval = _int(text, "INTERVAL", parts.get("INTERVAL", "1"))
        if not 1 <= self.interval <= 1000:
            raise _bad(text, f"INTERVAL must be between 1 and 1000, got {self.interval}")
        self.kwargs["interval"] = self.interval
        if "COUNT" in parts:
            if "UNTIL" in parts:
                raise _bad(text, "COUNT and UNTIL cannot be used together")
            count = _int(text, "COUNT", parts["COUNT"])
            if count < 1:
                raise _bad(text, f"COUNT must be at least 1, got {count}")
            self.kwargs["count"] = count
        if "WKST" in parts:
            if parts["WKST"] not in _WEEKDAYS:
                raise _bad(text, f"WKST={parts['WKST']} is not a weekday (MO..SU)")
            self.kwargs["wkst"] = _WEEKDAYS[parts["WKST"]]
        for name, (keyword, lo, hi, negatives) in _INT_LISTS.items():
            if name in parts:
                self.kwargs[keyword] = self._int_list(name, parts[name], lo, hi, negatives)
        if "BYDAY" in parts:
            self.kwargs["byweekday"] = self._byday(parts["BYDAY"], freq_text)
        if (
            "BYSETPOS" in parts
            and len(self.names - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYSETPOS"}) == 0
        ):
            raise _bad(text, "BYSETPOS needs another BY part (e.g. BYDAY) to pick from")
        if self.until_text is not None and _UNTIL.fullmatch(self.until_text) is None:
            raise _bad(text, f"UNTIL={self.until_text} is not YYYYMMDD or YYYYMMDDTHHMMSS[Z]")

    def _int_list(self, name: str, value: str, lo: int, hi: int, negatives: bool) -> list[int]:
        numbers = [_int(self.text, name, item) for item in value.split(",")]
        for number in numbers:
            ok = lo <= number <= hi or (negatives and -hi <= number <= -max(lo, 1))
            if not ok:
                span = f"{lo}..{hi}" + (f" or -{hi}..-1" if negatives else "")
                raise _bad(self.text, f"{name} value {number} is out of range ({span})")
        return numbers

    def _byday(self, value: str, freq_text: str) -> list[du.weekday]:
        days: list[du.weekday] = []
        for item in value.split(","):
            match = _BYDAY.fullmatch(item)
            if match is None:
                raise _bad(self.text, f"BYDAY value {item!r} is not like MO, 2TU or -1FR")
            ordinal_text, code = match.groups()
            if ordinal_text is None:
                days.append(_WEEKDAYS[code])
                continue
            ordinal = int(ordinal_text)
            if freq_text not in ("MONTHLY", "YEARLY"):
                raise _bad(
                    self.text, f"BYDAY ordinals such as {item!r} need FREQ=MONTHLY or FREQ=YEARLY"
                )
            limit = 5 if freq_text == "MONTHLY" or "BYMONTH" in self.names else 53
            if ordinal == 0 or abs(ordinal) > limit:
                raise _bad(
                    self.text, f"BYDAY ordinal in {item!r} must be 1..{limit} or -{limit}..-1"
                )
            days.append(_WEEKDAYS[code](ordinal))
        return days

    def until_local(self, zone: ZoneInfo) -> datetime | None:
        """``UNTIL`` as naive local time: UTC (``Z``) converted, local taken as is.

        A date without a time includes that whole day ("until Dec 31").
        """
        if self.until_text is None:
            return None
        match = _UNTIL.fullmatch(self.until_text)
        assert match is not None  # checked in __init__
        day, clock, utc = match.groups()
        try:
            if clock is None:
                return datetime.strptime(day, "%Y%m%d").replace(hour=23, minute=59, second=59)
            value = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
        except ValueError:
            raise _bad(self.text, f"UNTIL={self.until_text} is not a real date") from None
        if utc:
            return value.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
        return value

    def pinned(self, dtstart: datetime) -> dict[str, Any]:
        """The parts RFC 5545 (and dateutil) derive from DTSTART, made explicit."""
        pins: dict[str, Any] = {}
        given = self.kwargs
        if not {"byweekno", "byyearday", "bymonthday", "byweekday"} & given.keys():
            if self.freq == du.YEARLY:
                if "bymonth" not in given:
                    pins["bymonth"] = dtstart.month
                pins["bymonthday"] = dtstart.day
            elif self.freq == du.MONTHLY:
                pins["bymonthday"] = dtstart.day
            elif self.freq == du.WEEKLY:
                pins["byweekday"] = dtstart.weekday()
        if "byhour" not in given and self.freq < du.HOURLY:
            pins["byhour"] = dtstart.hour
        if "byminute" not in given and self.freq < du.MINUTELY:
            pins["byminute"] = dtstart.minute
        if "bysecond" not in given:
            pins["bysecond"] = dtstart.second
        return pins


def _shift(freq: _Freq, dtstart: datetime, periods: int) -> datetime:
    """``dtstart`` moved by whole periods (keeping dateutil's period grid)."""
    if freq == du.MINUTELY:
        return dtstart + timedelta(minutes=periods)
    if freq == du.HOURLY:
        return dtstart + timedelta(hours=periods)
    if freq == du.DAILY:
        return dtstart + timedelta(days=periods)
    if freq == du.WEEKLY:
        return dtstart + timedelta(weeks=periods)
    if freq == du.MONTHLY:
        index = dtstart.year * 12 + dtstart.month - 1 + periods
        return datetime(index // 12, index % 12 + 1, 1)
    return datetime(dtstart.year + periods, 1, 1)


def _periods_between(freq: _Freq, start: datetime, target: datetime) -> int:
    """Whole periods of ``freq`` from ``start`` to ``target`` (may undercount by one)."""
    if freq == du.MONTHLY:
        return (target.year - start.year) * 12 + target.month - start.month
    if freq == du.YEARLY:
        return target.year - start.year
    unit = {
        du.MINUTELY: timedelta(minutes=1),
        du.HOURLY: timedelta(hours=1),
        du.DAILY: timedelta(days=1),
        du.WEEKLY: timedelta(weeks=1),
    }[freq]
    return (target - start) // unit


class RRuleTrigger(WallClockTrigger):
    """An APScheduler trigger for an RRULE whose ``dtstart`` is local wall-clock time."""

    def __init__(
        self,
        rule: str,
        *,
        dtstart: datetime,
        timezone: ZoneInfo,
        gap_policy: GapPolicy = GapPolicy.SHIFT,
    ) -> None:
        super().__init__(timezone=timezone, gap_policy=gap_policy)
        self.text = rule
        self.parsed = ParsedRule(rule)
        self.dtstart = dtstart.replace(tzinfo=None, microsecond=0)
        self.until = self.parsed.until_local(timezone)
        self._kwargs = self.parsed.kwargs | self.parsed.pinned(self.dtstart)
        if self.until is not None:
            self._kwargs["until"] = self.until
        self.rule = self._make(self.dtstart)
        # (periods shifted, rule) of the last rebased copy; replaced atomically.
        self._rebased: tuple[int, du.rrule] = (0, self.rule)

    def _make(self, dtstart: datetime) -> du.rrule:
        try:
            return du.rrule(self.parsed.freq, dtstart=dtstart, **self._kwargs)
        except ValueError as exc:
            raise _bad(self.text, str(exc)) from exc

    def _rule_after(self, wall: datetime) -> du.rrule:
        # With COUNT the n-th occurrence is counted from DTSTART: no shortcut.
        if "count" in self._kwargs:
            return self.rule
        step = self.parsed.interval * _REBASE_STEP[self.parsed.freq]
        periods = (_periods_between(self.parsed.freq, self.dtstart, wall) // step - 1) * step
        if periods <= 0:
            return self.rule
        shifted, rule = self._rebased
        if shifted != periods:
            rule = self._make(_shift(self.parsed.freq, self.dtstart, periods))
            self._rebased = (periods, rule)
        return rule

    def next_wall_after(self, wall: datetime) -> datetime | None:
        found: datetime | None = self._rule_after(wall).after(wall, inc=False)
        return found

    def first_wall(self) -> datetime | None:
        """The first occurrence at or after ``dtstart`` (naive local), if there is one."""
        found: datetime | None = self.rule.after(self.dtstart, inc=True)
        return found

    def ever_fires(self) -> bool:
        """Whether the pattern (ignoring COUNT/UNTIL) has any occurrence at all.

        Probed over a 400-year Gregorian cycle at the end of the calendar, where
        dateutil's search stops at year 9999 even for rules that never match
        (e.g. BYMONTH=2;BYMONTHDAY=30), instead of grinding for seconds.
        """
        step = self.parsed.interval
        periods = (
            _periods_between(self.parsed.freq, self.dtstart, datetime(_PROBE_FROM_YEAR, 1, 1))
            // step
        ) * step
        kwargs = {k: v for k, v in self._kwargs.items() if k not in ("count", "until")}
        probe_start = _shift(self.parsed.freq, self.dtstart, max(periods, 0))
        probe = du.rrule(self.parsed.freq, dtstart=probe_start, **kwargs)
        return probe.after(probe_start, inc=True) is not None

    def __str__(self) -> str:
        return f"rrule[{self.text!r}, dtstart={self.dtstart.isoformat()}, {self.timezone}]"

    def __repr__(self) -> str:
        return (
            f"<RRuleTrigger ({self.text!r}, dtstart={self.dtstart.isoformat()!r}, "
            f"timezone='{self.timezone}')>"
        )
