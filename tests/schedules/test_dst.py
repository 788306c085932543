"""Daylight saving: examples per zone, and the APScheduler 3.11 behaviour we correct."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from core.schedule import GapPolicy, parse_schedule
from core.triggers import gap_end, next_fire_time, next_runs, to_instant

BERLIN = ZoneInfo("Europe/Berlin")


def runs(data: dict[str, object], after: datetime, n: int = 3) -> list[str]:
    return [f.isoformat() for f in next_runs(parse_schedule(data), after, n)]


def daily(kind: str, hh: int, mm: int, zone: str, policy: str = "shift") -> dict[str, object]:
    if kind == "cron":
        return {"kind": "cron", "cron": f"{mm} {hh} * * *", "timezone": zone, "gap_policy": policy}
    return {
        "kind": "rrule",
        "rrule": f"FREQ=DAILY;BYHOUR={hh};BYMINUTE={mm}",
        "dtstart": "2020-01-01T00:00:00",
        "timezone": zone,
        "gap_policy": policy,
    }


KINDS = ["cron", "rrule"]


@pytest.mark.parametrize("kind", KINDS)
def test_wall_clock_kept_across_both_changes(kind: str) -> None:
    spring = runs(daily(kind, 9, 0, "Europe/Berlin"), datetime(2026, 3, 28, 12, tzinfo=BERLIN))
    assert spring == [
        "2026-03-29T09:00:00+02:00",
        "2026-03-30T09:00:00+02:00",
        "2026-03-31T09:00:00+02:00",
    ]
    autumn = runs(daily(kind, 9, 0, "Europe/Berlin"), datetime(2026, 10, 24, 12, tzinfo=BERLIN))
    assert autumn == [
        "2026-10-25T09:00:00+01:00",
        "2026-10-26T09:00:00+01:00",
        "2026-10-27T09:00:00+01:00",
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_gap_shift_fires_at_end_of_gap(kind: str) -> None:
    assert runs(daily(kind, 2, 30, "Europe/Berlin"), datetime(2026, 3, 28, 12, tzinfo=BERLIN)) == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_gap_skip_skips_that_occurrence(kind: str) -> None:
    data = daily(kind, 2, 30, "Europe/Berlin", "skip")
    assert runs(data, datetime(2026, 3, 28, 12, tzinfo=BERLIN)) == [
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
        "2026-04-01T02:30:00+02:00",
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_fold_fires_once_at_first_occurrence(kind: str) -> None:
    fires = next_runs(
        parse_schedule(daily(kind, 2, 30, "Europe/Berlin")),
        datetime(2026, 10, 24, 12, tzinfo=BERLIN),
        2,
    )
    assert [f.isoformat() for f in fires] == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]
    assert fires[0].fold == 0


def test_hourly_cron_through_both_changes() -> None:
    data = {"kind": "cron", "cron": "0 * * * *", "timezone": "Europe/Berlin"}
    # 02:00 does not exist: shifted onto 03:00, which is also a fire: one fire, not two.
    assert runs(data, datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN), 3) == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T04:00:00+02:00",
    ]
    # 02:00 happens twice: fires at the first, then 03:00 (two hours later).
    assert runs(data, datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN), 4) == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T03:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]


def test_after_inside_the_second_pass_of_a_fold() -> None:
    spec = parse_schedule({"kind": "cron", "cron": "*/15 * * * *", "timezone": "Europe/Berlin"})
    second_pass = datetime(2026, 10, 25, 2, 10, tzinfo=BERLIN, fold=1)  # 02:10 CET
    assert second_pass.utcoffset() == timedelta(hours=1)
    fire = next_fire_time(spec, second_pass)
    assert fire is not None and fire.isoformat() == "2026-10-25T03:00:00+01:00"


def test_lord_howe_half_hour_change() -> None:
    zone = "Australia/Lord_Howe"  # 02:00 → 02:30 on the first Sunday of October
    after = datetime(2026, 10, 3, 12, tzinfo=ZoneInfo(zone))
    assert runs(daily("cron", 2, 15, zone), after, 2) == [
        "2026-10-04T02:30:00+11:00",
        "2026-10-05T02:15:00+11:00",
    ]
    assert runs(daily("rrule", 2, 15, zone, "skip"), after, 1) == ["2026-10-05T02:15:00+11:00"]
    # 01:30-02:00 repeats on the first Sunday of April: once, at +11:00.
    back = datetime(2026, 4, 4, 12, tzinfo=ZoneInfo(zone))
    assert runs(daily("cron", 1, 45, zone), back, 2) == [
        "2026-04-05T01:45:00+11:00",
        "2026-04-06T01:45:00+10:30",
    ]


def test_santiago_midnight_change() -> None:
    zone = "America/Santiago"  # 2026-09-06: 00:00 → 01:00
    after = datetime(2026, 9, 5, 12, tzinfo=ZoneInfo(zone))
    assert runs(daily("cron", 0, 0, zone), after, 2) == [
        "2026-09-06T01:00:00-03:00",
        "2026-09-07T00:00:00-03:00",
    ]
    assert runs(daily("rrule", 0, 30, zone, "skip"), after, 1) == ["2026-09-07T00:30:00-03:00"]


def test_chatham_quarter_hour_zone() -> None:
    zone = "Pacific/Chatham"  # 2026-09-27: 02:45 → 03:45 (+12:45 → +13:45)
    after = datetime(2026, 9, 26, 12, tzinfo=ZoneInfo(zone))
    assert runs(daily("cron", 3, 0, zone), after, 2) == [
        "2026-09-27T03:45:00+13:45",
        "2026-09-28T03:00:00+13:45",
    ]


def test_kolkata_and_utc_have_no_changes() -> None:
    for zone in ("Asia/Kolkata", "UTC"):
        fires = next_runs(
            parse_schedule(daily("cron", 2, 30, zone)), datetime(2026, 1, 1, tzinfo=UTC), 365
        )
        assert {(f.hour, f.minute) for f in fires} == {(2, 30)}


def test_samoa_skipped_a_whole_day() -> None:
    # Pacific/Apia jumped from 2011-12-29 24:00 to 2011-12-31 00:00.
    zone = "Pacific/Apia"
    after = datetime(2011, 12, 29, 12, tzinfo=ZoneInfo(zone))
    assert runs(daily("cron", 9, 0, zone), after, 2) == [
        "2011-12-31T00:00:00+14:00",
        "2011-12-31T09:00:00+14:00",
    ]
    assert runs(daily("cron", 9, 0, zone, "skip"), after, 1) == ["2011-12-31T09:00:00+14:00"]


@pytest.mark.parametrize(
    ("zone", "wall", "end"),
    [
        ("Europe/Berlin", datetime(2026, 3, 29, 2, 30), "2026-03-29T03:00:00+02:00"),
        ("America/New_York", datetime(2026, 3, 8, 2, 59, 59), "2026-03-08T03:00:00-04:00"),
        ("Australia/Lord_Howe", datetime(2026, 10, 4, 2, 0), "2026-10-04T02:30:00+11:00"),
        ("Pacific/Chatham", datetime(2026, 9, 27, 3, 0), "2026-09-27T03:45:00+13:45"),
    ],
)
def test_gap_end(zone: str, wall: datetime, end: str) -> None:
    assert gap_end(wall, ZoneInfo(zone)).isoformat() == end
    assert to_instant(wall, ZoneInfo(zone), GapPolicy.SKIP) is None


def test_apscheduler_311_cron_differs_from_our_policy() -> None:
    """Why cron runs on the wall clock here: APScheduler 3.11's own zone handling."""
    native = CronTrigger.from_crontab("30 2 * * *", timezone=BERLIN)
    gap = native.get_next_fire_time(None, datetime(2026, 3, 28, 12, tzinfo=BERLIN))
    # A non-existent 02:30+01:00, i.e. 03:30 CEST, rather than the end of the gap (03:00).
    assert gap.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    first = native.get_next_fire_time(None, datetime(2026, 10, 24, 12, tzinfo=BERLIN))
    second = native.get_next_fire_time(first, first)
    # Fires twice in the fold (02:30 CEST and 02:30 CET).
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    # And reads crontab day-of-week 1-5 as Tuesday..Saturday.
    weekdays = CronTrigger.from_crontab("0 9 * * 1-5", timezone=BERLIN)
    saturday = weekdays.get_next_fire_time(None, datetime(2026, 11, 28, 0, tzinfo=BERLIN))
    assert saturday.date().isoweekday() == 6


def test_interval_queried_from_the_second_pass_of_a_fold() -> None:
    # Start 02:30 CEST; asked at 02:10 CET (40 minutes later): the next fire is on the
    # grid after that instant, not the (earlier) start read by wall clock.
    data = {
        "kind": "interval",
        "every_seconds": 1800,
        "start": "2026-10-25T02:00:00+02:00",
        "timezone": "Europe/Berlin",
    }
    after = datetime(2026, 10, 25, 2, 10, tzinfo=BERLIN, fold=1)
    assert runs(data, after, 2) == ["2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"]
    once = {"kind": "once", "at": "2026-10-25T02:20:00+02:00", "timezone": "Europe/Berlin"}
    assert runs(once, after, 1) == []


def test_interval_start_given_in_a_dst_zone_is_absolute() -> None:
    # 01:30 CEST + 2 h is 02:30 CET (absolute), not the wall-clock 03:30.
    start = datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN)
    spec = parse_schedule(
        {"kind": "interval", "every_seconds": 7200, "start": start, "timezone": "Europe/Berlin"}
    )
    assert [f.isoformat() for f in next_runs(spec, start, 2)] == [
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T04:30:00+01:00",
    ]


def test_apscheduler_contract_from_the_second_pass_of_a_fold() -> None:
    from core.triggers import build_trigger

    trigger = build_trigger(
        parse_schedule({"kind": "cron", "cron": "0 * * * *", "timezone": "Europe/Berlin"})
    )
    now = datetime(2026, 10, 25, 2, 0, tzinfo=BERLIN, fold=1)  # 02:00 CET, already fired
    fire = trigger.get_next_fire_time(None, now)
    assert fire.isoformat() == "2026-10-25T03:00:00+01:00"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (
            "shift",
            ["2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"],
        ),
        (
            "skip",
            ["2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"],
        ),
    ],
)
def test_many_gap_times_collapse_into_one_fire(policy: str, expected: list[str]) -> None:
    # 02:00, 02:15, 02:30 and 02:45 do not exist: under shift they all land on 03:00,
    # which fires once (and 03:00 is a fire of its own anyway).
    data = {
        "kind": "cron",
        "cron": "*/15 * * * *",
        "timezone": "Europe/Berlin",
        "gap_policy": policy,
    }
    assert runs(data, datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN), 3) == expected


def test_gap_shift_onto_a_time_that_is_no_fire_of_its_own() -> None:
    data = {"kind": "cron", "cron": "20,40 2 * * *", "timezone": "Europe/Berlin"}
    assert runs(data, datetime(2026, 3, 28, 12, tzinfo=BERLIN), 3) == [
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:20:00+02:00",
        "2026-03-30T02:40:00+02:00",
    ]
