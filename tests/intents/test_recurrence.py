"""Recurrence forms → RRULE / interval schedules and their first fire times.

Reference: Tuesday 2027-06-15 10:00 in America/New_York (EDT, -04:00).
"""

from __future__ import annotations

import pytest

from .conftest import Parse, iso

NOW = "2027-06-15T10:00"
TZ = "America/New_York"


def _runs(*days_times: str) -> list[str]:
    return [f"2027-{value}-04:00" if len(value) == 14 else value for value in days_times]


CASES = [
    (
        "remind me every day to drink water",
        _runs("06-16T09:00:00", "06-17T09:00:00", "06-18T09:00:00"),
    ),
    (
        "daily at 11 remind me to log time",
        _runs("06-15T11:00:00", "06-16T11:00:00", "06-17T11:00:00"),
    ),
    (
        "remind me everyday at 10:30 to check the queue",
        _runs("06-15T10:30:00", "06-16T10:30:00", "06-17T10:30:00"),
    ),
    (
        "every weekday at 9:15 remind me to review PRs",
        _runs("06-16T09:15:00", "06-17T09:15:00", "06-18T09:15:00"),
    ),
    (
        "remind me on weekdays at 6pm to log off",
        _runs("06-15T18:00:00", "06-16T18:00:00", "06-17T18:00:00"),
    ),
    (
        "remind me every weekend to call home",
        _runs("06-19T09:00:00", "06-20T09:00:00", "06-26T09:00:00"),
    ),
    (
        "remind me every Tuesday to take the bins out",
        _runs("06-22T09:00:00", "06-29T09:00:00", "07-06T09:00:00"),
    ),
    (
        "every Tuesday at 4pm remind me to file notes",
        _runs("06-15T16:00:00", "06-22T16:00:00", "06-29T16:00:00"),
    ),
    (
        "remind me on Mondays to plan the week",
        _runs("06-21T09:00:00", "06-28T09:00:00", "07-05T09:00:00"),
    ),
    (
        "remind me every Mon, Wed and Fri at 8am to run",
        _runs("06-16T08:00:00", "06-18T08:00:00", "06-21T08:00:00"),
    ),
    (
        "remind me every other Thursday to pay the nanny",
        _runs("06-17T09:00:00", "07-01T09:00:00", "07-15T09:00:00"),
    ),
    (
        "remind me biweekly on Monday to send the newsletter",
        _runs("06-21T09:00:00", "07-05T09:00:00", "07-19T09:00:00"),
    ),
    (
        "remind me every second Friday at 5pm to do payroll",
        _runs("06-18T17:00:00", "07-02T17:00:00", "07-16T17:00:00"),
    ),
    (
        "remind me every 2 weeks on Wednesday to water the ficus",
        _runs("06-16T09:00:00", "06-30T09:00:00", "07-14T09:00:00"),
    ),
    (
        "remind me monthly on the 20th to pay rent",
        _runs("06-20T09:00:00", "07-20T09:00:00", "08-20T09:00:00"),
    ),
    (
        "remind me every month on the 3rd to send invoices",
        _runs("07-03T09:00:00", "08-03T09:00:00", "09-03T09:00:00"),
    ),
    (
        "remind me monthly to check the meters",
        _runs("07-01T09:00:00", "08-01T09:00:00", "09-01T09:00:00"),
    ),
    (
        "remind me on the first Monday of every month to plan",
        _runs("07-05T09:00:00", "08-02T09:00:00", "09-06T09:00:00"),
    ),
    (
        "remind me the last Friday of the month at 3pm to demo",
        _runs("06-25T15:00:00", "07-30T15:00:00", "08-27T15:00:00"),
    ),
    (
        "remind me on the last day of every month to close the books",
        _runs("06-30T09:00:00", "07-31T09:00:00", "08-31T09:00:00"),
    ),
    (
        "every year on July 4 remind me to buy fireworks",
        ["2027-07-04T09:00:00-04:00", "2028-07-04T09:00:00-04:00", "2029-07-04T09:00:00-04:00"],
    ),
    (
        "remind me every 3 days to rotate the compost",
        _runs("06-16T09:00:00", "06-19T09:00:00", "06-22T09:00:00"),
    ),
    (
        "remind me every morning to meditate",
        _runs("06-16T09:00:00", "06-17T09:00:00", "06-18T09:00:00"),
    ),
    (
        "remind me every evening at 7 to journal",
        _runs("06-15T19:00:00", "06-16T19:00:00", "06-17T19:00:00"),
    ),
    (
        "remind me each night to set the alarm",
        _runs("06-15T20:00:00", "06-16T20:00:00", "06-17T20:00:00"),
    ),
    # bounds: until (inclusive day), for N units, N times
    (
        "remind me every day at 7 until Thursday to stretch",
        _runs("06-16T07:00:00", "06-17T07:00:00"),
    ),
    ("remind me every day for 2 days to hydrate", _runs("06-16T09:00:00", "06-17T09:00:00")),
    ("remind me every Monday 2 times to submit hours", _runs("06-21T09:00:00", "06-28T09:00:00")),
    ("remind me every day at 8pm until Jun 16 to walk", _runs("06-15T20:00:00", "06-16T20:00:00")),
    # lists, ranges and redundant adverbs
    (
        "remind me every Monday to Friday at 7 to stretch",
        _runs("06-16T07:00:00", "06-17T07:00:00", "06-18T07:00:00"),
    ),
    (
        "remind me every mon-wed at 7 to stretch",
        _runs("06-16T07:00:00", "06-21T07:00:00", "06-22T07:00:00"),
    ),
    (
        "remind me every day except weekends at 8 to plan",
        _runs("06-16T08:00:00", "06-17T08:00:00", "06-18T08:00:00"),
    ),
    (
        "remind me on the 1st and 15th of every month to invoice",
        _runs("07-01T09:00:00", "07-15T09:00:00", "08-01T09:00:00"),
    ),
    (
        "remind me weekly on Fridays at 4 to submit hours",
        _runs("06-18T16:00:00", "06-25T16:00:00", "07-02T16:00:00"),
    ),
    (
        "remind me biweekly on Thursdays to pay the nanny",
        _runs("06-17T09:00:00", "07-01T09:00:00", "07-15T09:00:00"),
    ),
    (
        "remind me on the last weekday of the month to file hours",
        _runs("06-30T09:00:00", "07-30T09:00:00", "08-31T09:00:00"),
    ),
    (
        "remind me every day except Tuesday at 8 to swim",
        _runs("06-16T08:00:00", "06-17T08:00:00", "06-18T08:00:00"),
    ),
    (
        "remind me every weekday except Friday to stand up",
        _runs("06-16T09:00:00", "06-17T09:00:00", "06-21T09:00:00"),
    ),
    (
        "remind me at 9 and 5 every day to stretch",
        _runs("06-15T17:00:00", "06-16T09:00:00", "06-16T17:00:00"),
    ),
    (
        "every 2nd and 4th Tuesday remind me to review",
        _runs("06-22T09:00:00", "07-13T09:00:00", "07-27T09:00:00"),
    ),
    (
        "every hour from 9 to 5 remind me to stretch",
        _runs("06-15T11:00:00", "06-15T12:00:00", "06-15T13:00:00"),
    ),
    (
        "remind me every 2 hours between 8am and 6pm on weekdays to drink water",
        _runs("06-15T12:00:00", "06-15T14:00:00", "06-15T16:00:00"),
    ),
    (
        "remind me every mon/wed/fri at 7 to run",
        _runs("06-16T07:00:00", "06-18T07:00:00", "06-21T07:00:00"),
    ),
    (
        "remind me every day at 9 starting next week to walk",
        _runs("06-21T09:00:00", "06-22T09:00:00", "06-23T09:00:00"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_recurring_next_runs(parse: Parse, text: str, expected: list[str]) -> None:
    intent = parse(text, now=NOW, tz=TZ)
    assert intent.intent == "create_reminder"
    assert intent.schedule is not None and intent.schedule.kind == "recurring"
    assert iso(intent.next_runs) == expected


INTERVALS = [
    (
        "every 20 minutes fetch https://example.org/ping",
        1200,
        ["2027-06-15T10:20:00-04:00", "2027-06-15T10:40:00-04:00", "2027-06-15T11:00:00-04:00"],
    ),
    (
        "hourly fetch https://example.org/feed",
        3600,
        ["2027-06-15T11:00:00-04:00", "2027-06-15T12:00:00-04:00", "2027-06-15T13:00:00-04:00"],
    ),
    (
        "every 45 seconds check https://example.org/up",
        45,
        ["2027-06-15T10:00:45-04:00", "2027-06-15T10:01:30-04:00", "2027-06-15T10:02:15-04:00"],
    ),
    (
        "every half hour run `poll.sh`",
        1800,
        ["2027-06-15T10:30:00-04:00", "2027-06-15T11:00:00-04:00", "2027-06-15T11:30:00-04:00"],
    ),
    (
        "every ten minutes run `probe.sh`",
        600,
        ["2027-06-15T10:10:00-04:00", "2027-06-15T10:20:00-04:00", "2027-06-15T10:30:00-04:00"],
    ),
]


@pytest.mark.parametrize(("text", "seconds", "expected"), INTERVALS)
def test_short_intervals(parse: Parse, text: str, seconds: int, expected: list[str]) -> None:
    intent = parse(text, now=NOW, tz=TZ)
    assert intent.intent == "schedule_job"
    assert intent.schedule is not None
    assert intent.schedule.kind == "interval" and intent.schedule.every_seconds == seconds
    assert iso(intent.next_runs) == expected


def test_rrule_text_and_local_dtstart(parse: Parse) -> None:
    intent = parse("remind me every other Thursday at 10:00 to pay the nanny", now=NOW, tz=TZ)
    schedule = intent.schedule
    assert schedule is not None
    assert schedule.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10;BYMINUTE=0"
    assert schedule.dtstart is not None and schedule.dtstart.isoformat() == "2027-06-17T10:00:00"
    assert schedule.timezone == TZ
    assert intent.to_json()["schedule"]["kind"] == "recurring"


def test_wall_clock_kept_across_dst(parse: Parse) -> None:
    intent = parse("every day at 9 remind me to stand up", now="2027-03-13T12:00", tz=TZ)
    assert iso(intent.next_runs) == [
        "2027-03-14T09:00:00-04:00",
        "2027-03-15T09:00:00-04:00",
        "2027-03-16T09:00:00-04:00",
    ]


def test_a_recurrence_with_a_written_zone_uses_it(parse: Parse) -> None:
    intent = parse("every Monday at 9am London time remind me to sync", now=NOW, tz=TZ)
    assert intent.schedule is not None and intent.schedule.timezone == "Europe/London"
    assert iso(intent.next_runs)[0] == "2027-06-21T09:00:00+01:00"


def test_weekly_adjective_in_a_name_is_not_a_schedule(parse: Parse) -> None:
    intent = parse("why did the weekly export fail?", now=NOW, tz=TZ)
    assert intent.intent == "show_history"
    assert intent.task_ref == "the weekly export"
    assert intent.schedule is None


def test_too_short_interval_asks_back(parse: Parse) -> None:
    intent = parse("every 2 seconds fetch https://example.org", now=NOW, tz=TZ)
    assert intent.next_runs == []
    assert intent.clarification is not None
