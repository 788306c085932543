"""Example tests for each schedule kind and for bad input (exact messages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidSchedule
from core.schedule import parse_schedule
from core.triggers import build_trigger, next_fire_time, next_runs, validate

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=BERLIN)  # a Thursday


def runs(data: dict[str, object], after: datetime = NOW, n: int = 3) -> list[str]:
    return [f.isoformat() for f in next_runs(parse_schedule(data), after, n)]


def cron(expr: str, **extra: object) -> dict[str, object]:
    return {"kind": "cron", "cron": expr, "timezone": "Europe/Berlin", **extra}


def rrule(
    rule: str, dtstart: str | None = "2026-01-01T09:00:00", **extra: object
) -> dict[str, object]:
    data: dict[str, object] = {"kind": "rrule", "rrule": rule, "timezone": "Europe/Berlin", **extra}
    if dtstart is not None:
        data["dtstart"] = dtstart
    return data


# --- cron -------------------------------------------------------------------------------


def test_cron_weekdays_use_crontab_numbering() -> None:
    # 1-5 is Monday..Friday (APScheduler 3 alone would read Tuesday..Saturday).
    assert runs(cron("0 9 * * 1-5")) == [
        "2026-11-27T09:00:00+01:00",
        "2026-11-30T09:00:00+01:00",
        "2026-12-01T09:00:00+01:00",
    ]


def test_cron_sunday_is_0_and_7() -> None:
    assert (
        runs(cron("0 9 * * 0"), n=1)
        == runs(cron("0 9 * * 7"), n=1)
        == ["2026-11-29T09:00:00+01:00"]
    )
    assert runs(cron("0 9 * * sun"), n=1) == ["2026-11-29T09:00:00+01:00"]


def test_cron_weekday_step_counts_from_sunday() -> None:
    # */2 = Sun, Tue, Thu, Sat in crontab.
    assert runs(cron("0 9 * * */2"), n=4) == [
        "2026-11-28T09:00:00+01:00",
        "2026-11-29T09:00:00+01:00",
        "2026-12-01T09:00:00+01:00",
        "2026-12-03T09:00:00+01:00",
    ]


def test_cron_last_friday() -> None:
    assert runs(cron("0 9 last fri * *")) == [
        "2026-11-27T09:00:00+01:00",
        "2026-12-25T09:00:00+01:00",
        "2027-01-29T09:00:00+01:00",
    ]


def test_cron_second_tuesday() -> None:
    assert runs(cron("0 9 2nd tue * *")) == [
        "2026-12-08T09:00:00+01:00",
        "2027-01-12T09:00:00+01:00",
        "2027-02-09T09:00:00+01:00",
    ]


def test_cron_last_day_of_month() -> None:
    assert runs(cron("0 17 last * *"), n=2) == [
        "2026-11-30T17:00:00+01:00",
        "2026-12-31T17:00:00+01:00",
    ]


def test_cron_day_and_weekday_are_ored_like_crontab() -> None:
    # The 1st of the month OR any Monday.
    assert runs(cron("0 9 1 * mon"), n=3) == [
        "2026-11-30T09:00:00+01:00",
        "2026-12-01T09:00:00+01:00",
        "2026-12-07T09:00:00+01:00",
    ]


def test_cron_start_and_end_bound_the_fires() -> None:
    spec = cron("0 9 * * *", start="2026-12-01T00:00:00+01:00", end="2026-12-02T12:00:00+01:00")
    assert runs(spec, n=5) == ["2026-12-01T09:00:00+01:00", "2026-12-02T09:00:00+01:00"]


def test_fire_is_strictly_after() -> None:
    at_nine = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
    spec = parse_schedule(cron("0 9 * * *"))
    assert next_fire_time(spec, at_nine) == at_nine + timedelta(days=1)
    assert next_fire_time(spec, at_nine - timedelta(microseconds=1)) == at_nine


def test_results_are_in_spec_zone_and_whole_seconds() -> None:
    after = datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC)
    fires = next_runs(parse_schedule(cron("*/5 * * * *")), after, 2)
    assert [f.isoformat() for f in fires] == [
        "2026-11-26T11:05:00+01:00",
        "2026-11-26T11:10:00+01:00",
    ]
    assert all(f.tzinfo == BERLIN for f in fires)


def test_naive_after_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_runs(parse_schedule(cron("0 9 * * *")), datetime(2026, 1, 1))


# --- rrule ------------------------------------------------------------------------------


def test_rrule_last_day_of_month() -> None:
    assert runs(rrule("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=17;BYMINUTE=0")) == [
        "2026-11-30T17:00:00+01:00",
        "2026-12-31T17:00:00+01:00",
        "2027-01-31T17:00:00+01:00",
    ]


def test_rrule_second_tuesday_with_prefix() -> None:
    assert runs(rrule("RRULE:FREQ=MONTHLY;BYDAY=2TU")) == [
        "2026-12-08T09:00:00+01:00",
        "2027-01-12T09:00:00+01:00",
        "2027-02-09T09:00:00+01:00",
    ]


def test_rrule_last_friday_and_bysetpos() -> None:
    assert (
        runs(rrule("FREQ=MONTHLY;BYDAY=-1FR"), n=2)
        == runs(rrule("FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1"), n=2)
        == ["2026-11-27T09:00:00+01:00", "2026-12-25T09:00:00+01:00"]
    )


def test_rrule_count() -> None:
    data = rrule("FREQ=DAILY;COUNT=3", dtstart="2026-11-25T09:00:00")
    assert runs(data, after=datetime(2026, 11, 1, tzinfo=UTC), n=5) == [
        "2026-11-25T09:00:00+01:00",
        "2026-11-26T09:00:00+01:00",
        "2026-11-27T09:00:00+01:00",
    ]
    assert runs(data, n=5) == ["2026-11-27T09:00:00+01:00"]


def test_rrule_until_utc_and_local() -> None:
    # 08:00Z is 09:00 in Berlin: inclusive.
    utc = rrule("FREQ=DAILY;UNTIL=20261128T080000Z", dtstart="2026-11-25T09:00:00")
    local = rrule("FREQ=DAILY;UNTIL=20261128T090000", dtstart="2026-11-25T09:00:00")
    date_only = rrule("FREQ=DAILY;UNTIL=20261128", dtstart="2026-11-25T09:00:00")
    expected = ["2026-11-27T09:00:00+01:00", "2026-11-28T09:00:00+01:00"]
    assert runs(utc, n=5) == runs(local, n=5) == runs(date_only, n=5) == expected


def test_rrule_every_other_week() -> None:
    data = rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", dtstart="2026-11-02T09:30:00")
    assert runs(data, n=4) == [
        "2026-11-30T09:30:00+01:00",
        "2026-12-03T09:30:00+01:00",
        "2026-12-14T09:30:00+01:00",
        "2026-12-17T09:30:00+01:00",
    ]


def test_rrule_yearly_by_month() -> None:
    data = rrule("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3;BYHOUR=9;BYMINUTE=0")
    assert runs(data, n=2) == ["2027-03-03T09:00:00+01:00", "2028-03-03T09:00:00+01:00"]


def test_rrule_hourly_and_minutely() -> None:
    hourly = rrule("FREQ=HOURLY;INTERVAL=6;BYMINUTE=15", dtstart="2026-11-26T00:00:00")
    assert runs(hourly, n=2) == ["2026-11-26T12:15:00+01:00", "2026-11-26T18:15:00+01:00"]
    minutely = rrule("FREQ=MINUTELY;INTERVAL=20", dtstart="2026-11-26T00:10:00")
    assert runs(minutely, n=2) == ["2026-11-26T12:10:00+01:00", "2026-11-26T12:30:00+01:00"]


def test_rrule_without_dtstart_is_anchored_at_after() -> None:
    after = datetime(2026, 11, 26, 12, 34, 56, tzinfo=BERLIN)
    assert runs(rrule("FREQ=DAILY", dtstart=None), after=after, n=2) == [
        "2026-11-27T12:34:00+01:00",
        "2026-11-28T12:34:00+01:00",
    ]


def test_rrule_old_dtstart_gives_same_result_as_recent() -> None:
    # dtstart far in the past is rebased internally; results must not change.
    old = rrule("FREQ=WEEKLY;INTERVAL=3;BYDAY=WE", dtstart="2001-01-03T08:00:00")
    fires = next_runs(parse_schedule(old), NOW, 40)
    assert all((f.date() - fires[0].date()).days % 21 == 0 for f in fires)
    assert (fires[0].date() - datetime(2001, 1, 3).date()).days % 21 == 0


# --- interval, once, mixed, event -------------------------------------------------------


def test_interval_keeps_exact_spacing_from_start() -> None:
    data = {
        "kind": "interval",
        "every_seconds": 90,
        "start": "2026-11-26T10:00:00+00:00",
        "timezone": "Europe/Berlin",
    }
    assert runs(data, after=datetime(2026, 11, 26, 10, 0, 1, tzinfo=UTC), n=3) == [
        "2026-11-26T11:01:30+01:00",
        "2026-11-26T11:03:00+01:00",
        "2026-11-26T11:04:30+01:00",
    ]
    # Later queries stay on the same grid.
    assert runs(data, after=datetime(2026, 11, 26, 10, 59, 59, tzinfo=UTC), n=2) == [
        "2026-11-26T12:00:00+01:00",
        "2026-11-26T12:01:30+01:00",
    ]


def test_interval_is_absolute_time_across_dst() -> None:
    data = {
        "kind": "interval",
        "every_seconds": 3600,
        "start": "2026-03-29T00:00:00+01:00",
        "timezone": "Europe/Berlin",
    }
    assert runs(data, after=datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN), n=3) == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T04:00:00+02:00",
    ]


def test_interval_without_start_starts_at_after() -> None:
    data = {"kind": "interval", "every_seconds": 900, "timezone": "UTC"}
    after = datetime(2026, 11, 26, 10, 7, tzinfo=UTC)
    assert runs(data, after=after, n=2) == [
        "2026-11-26T10:22:00+00:00",
        "2026-11-26T10:37:00+00:00",
    ]


def test_once_in_future_and_past() -> None:
    data = {"kind": "once", "at": "2026-12-01T09:00:00+01:00", "timezone": "Europe/Berlin"}
    assert runs(data) == ["2026-12-01T09:00:00+01:00"]
    assert runs(data, after=datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)) == []
    assert next_fire_time(parse_schedule(data), datetime(2027, 1, 1, tzinfo=UTC)) is None


def test_mixed_fires_whichever_first_and_parts_inherit_zone() -> None:
    data = {
        "kind": "mixed",
        "timezone": "Europe/Berlin",
        "parts": [
            {"kind": "cron", "cron": "0 9 * * *"},
            {"kind": "once", "at": "2026-11-27T07:00:00+00:00"},
            {"kind": "event", "event": "deploy"},
        ],
    }
    assert runs(data) == [
        "2026-11-27T08:00:00+01:00",
        "2026-11-27T09:00:00+01:00",
        "2026-11-28T09:00:00+01:00",
    ]


def test_event_schedule_has_no_time_based_fires() -> None:
    spec = parse_schedule({"kind": "event", "event": "deploy"})
    validate(spec)  # a valid schedule...
    assert next_fire_time(spec, NOW) is None  # ...that fires on events only
    assert next_runs(spec, NOW) == []
    with pytest.raises(InvalidSchedule, match="has no time-based fire times"):
        build_trigger(spec)


def test_built_trigger_is_apscheduler_compatible() -> None:
    trigger = build_trigger(parse_schedule(cron("0 9 * * *")))
    fire = trigger.get_next_fire_time(None, NOW)
    assert fire == datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
    assert trigger.get_next_fire_time(fire, fire) == fire + timedelta(days=1)
    assert build_trigger(parse_schedule(cron("0 9 * * *"))) is trigger  # cached


# --- bad input --------------------------------------------------------------------------

BAD = [
    (
        cron("0 9 * *"),
        "Invalid cron expression '0 9 * *': expected 5 fields "
        "(minute hour day-of-month month day-of-week), got 4.",
    ),
    (
        cron("0 9 * * * *"),
        "Invalid cron expression '0 9 * * * *': expected 5 fields "
        "(minute hour day-of-month month day-of-week), got 6.",
    ),
    (
        cron("61 9 * * *"),
        "Invalid cron expression '61 9 * * *': bad minute field '61' "
        "(Error validating expression '61': the last value (61) is higher "
        "than the maximum value (59)).",
    ),
    (
        cron("0 25 * * *"),
        "Invalid cron expression '0 25 * * *': bad hour field '25' "
        "(Error validating expression '25': the last value (25) is higher "
        "than the maximum value (23)).",
    ),
    (
        cron("0 9 * 13 *"),
        "Invalid cron expression '0 9 * 13 *': bad month field '13' "
        "(Error validating expression '13': the last value (13) is higher "
        "than the maximum value (12)).",
    ),
    (
        cron("0 9 * * 8"),
        "Invalid cron expression '0 9 * * 8': bad day-of-week field '8' "
        "(weekday 8 is out of range (0-7, where 0 and 7 are Sunday)).",
    ),
    (
        cron("0 9 * * fri-mon"),
        "Invalid cron expression '0 9 * * fri-mon': bad day-of-week "
        "field 'fri-mon' (range 'fri-mon' runs backwards).",
    ),
    (
        cron("0 9 32 * *"),
        "Invalid cron expression '0 9 32 * *': bad day-of-month field '32' "
        "(Error validating expression '32': the last value (32) is higher "
        "than the maximum value (31)).",
    ),
    (cron("0 0 30 2 *"), "The cron expression '0 0 30 2 *' never fires (no such date)."),
    (
        rrule("FREQ=DAILY;BYMONTH=13"),
        "Invalid RRULE 'FREQ=DAILY;BYMONTH=13': BYMONTH value 13 is out of range (1..12).",
    ),
    (
        rrule("FREQ=SECONDLY"),
        "Invalid RRULE 'FREQ=SECONDLY': FREQ=SECONDLY is not supported "
        "(use MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY).",
    ),
    (rrule("BYDAY=MO"), "Invalid RRULE 'BYDAY=MO': FREQ is missing."),
    (
        rrule("FREQ=DAILY;COUNT=3;UNTIL=20270101"),
        "Invalid RRULE 'FREQ=DAILY;COUNT=3;UNTIL=20270101': COUNT and UNTIL cannot be used "
        "together.",
    ),
    (
        rrule("FREQ=WEEKLY;BYDAY=2TU"),
        "Invalid RRULE 'FREQ=WEEKLY;BYDAY=2TU': BYDAY ordinals "
        "such as '2TU' need FREQ=MONTHLY or FREQ=YEARLY.",
    ),
    (
        rrule("FREQ=MONTHLY;BYDAY=6TU"),
        "Invalid RRULE 'FREQ=MONTHLY;BYDAY=6TU': BYDAY ordinal in '6TU' must be 1..5 or -5..-1.",
    ),
    (
        rrule("FREQ=MONTHLY;BYDAY=XX"),
        "Invalid RRULE 'FREQ=MONTHLY;BYDAY=XX': BYDAY value 'XX' is not like MO, 2TU or -1FR.",
    ),
    (
        rrule("FREQ=MONTHLY;BYMONTHDAY=0"),
        "Invalid RRULE 'FREQ=MONTHLY;BYMONTHDAY=0': "
        "BYMONTHDAY value 0 is out of range (1..31 or "
        "-31..-1).",
    ),
    (
        rrule("FREQ=DAILY;BYEASTER=0"),
        "Invalid RRULE 'FREQ=DAILY;BYEASTER=0': BYEASTER is not supported.",
    ),
    (
        rrule("FREQ=DAILY;INTERVAL=0"),
        "Invalid RRULE 'FREQ=DAILY;INTERVAL=0': INTERVAL must be between 1 and 1000, got 0.",
    ),
    (
        rrule("FREQ=DAILY;INTERVAL=x"),
        "Invalid RRULE 'FREQ=DAILY;INTERVAL=x': INTERVAL needs a whole number, got 'X'.",
    ),
    (
        rrule("DTSTART:20260101T090000\nRRULE:FREQ=DAILY"),
        "Invalid RRULE 'DTSTART:20260101T090000\\nRRULE:FREQ=DAILY': expected one RRULE line "
        "such as 'FREQ=DAILY;BYHOUR=9' (DTSTART, EXDATE and RDATE lines are not supported).",
    ),
    (
        rrule("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30"),
        "The RRULE 'FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30' never fires (no date matches all "
        "its parts).",
    ),
    (
        rrule("FREQ=DAILY;UNTIL=20251231"),
        "The RRULE 'FREQ=DAILY;UNTIL=20251231' has no occurrence on or after its start "
        "2026-01-01 09:00 (is UNTIL too early?).",
    ),
    (
        {"kind": "interval", "every_seconds": 400_000_000},
        "An interval of 400000000 seconds is longer than 10 years.",
    ),
    (
        {
            "kind": "interval",
            "every_seconds": 60,
            "start": "2026-01-02T00:00:00Z",
            "end": "2026-01-01T00:00:00Z",
        },
        "The interval's end is not after its start.",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_schedules_name_the_problem(data: dict[str, object], message: str) -> None:
    spec = parse_schedule(data)
    with pytest.raises(InvalidSchedule) as caught:
        validate(spec)
    assert caught.value.message == message
    with pytest.raises(InvalidSchedule):
        next_fire_time(spec, NOW)


def test_unknown_timezone_is_named() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        parse_schedule(cron("0 9 * * *", timezone="Mars/Olympus"))
    assert "Unknown time zone 'Mars/Olympus'." in caught.value.message


def test_too_short_interval_is_named() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        parse_schedule({"kind": "interval", "every_seconds": 5})
    assert "an interval must be at least 10 seconds, got 5" in caught.value.message


def test_rrule_is_case_insensitive() -> None:
    assert runs(rrule("rrule:freq=weekly;byday=mo,th;byhour=9;byminute=0"), n=2) == [
        "2026-11-30T09:00:00+01:00",
        "2026-12-03T09:00:00+01:00",
    ]
