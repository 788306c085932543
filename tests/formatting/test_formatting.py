"""``bot.formatting`` is total: any stored instant, any zone, always text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.formatting import runs, tomorrow_morning, when

ZONES = [*sorted(available_timezones()), "Not/AZone", "", "../etc/passwd"]
OFFSETS = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
INSTANTS = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(timezones=OFFSETS),
    st.datetimes(),  # naive: Kairos stores UTC, old rows may lack the zone
    st.sampled_from(
        [datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC), datetime.max]
    ),
)


@settings(max_examples=600, deadline=None)
@given(instant=INSTANTS, now=st.one_of(st.none(), INSTANTS), zone=st.sampled_from(ZONES))
def test_when_always_returns_text(instant: datetime, now: datetime | None, zone: str) -> None:
    text = when(instant, zone, now=now)
    assert isinstance(text, str) and text
    assert runs([instant, instant], zone).count(",") >= 1


@settings(max_examples=300, deadline=None)
@given(now=INSTANTS, zone=st.sampled_from(ZONES))
def test_tomorrow_morning_is_always_an_instant(now: datetime, zone: str) -> None:
    assert isinstance(tomorrow_morning(now, zone), datetime)


def test_a_year_9999_task_is_shown_east_of_utc() -> None:
    # The task that made "list" fail for everyone east of UTC (issue 8).
    due = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert when(due, "Asia/Tokyo") == "Fri 31 Dec 9999 23:59 UTC"
    assert when(datetime(2026, 3, 5, 12, tzinfo=UTC), "Europe/Berlin") == "Thu 05 Mar 13:00 CET"
