"""One-off times: every Time convention of PARSING.md, on sentences of our own.

Reference: Monday 2027-03-01 08:00 in America/Chicago (CST, -06:00) unless said
otherwise; US daylight saving starts on Sunday 2027-03-14 (CDT, -05:00).
"""

from __future__ import annotations

import pytest

from .conftest import Parse, iso

CASES = [
    # bare hours: 7–11 morning, 12 noon, 1–6 afternoon; 24-hour forms as written
    ("ping me at 5 so I stop working", "2027-03-01T17:00:00-06:00"),
    ("at 1 remind me to eat", "2027-03-01T13:00:00-06:00"),
    ("remind me at 6 to cook", "2027-03-01T18:00:00-06:00"),
    ("remind me at 11 to call Ana", "2027-03-01T11:00:00-06:00"),
    ("remind me at 12 to stretch", "2027-03-01T12:00:00-06:00"),
    ("remind me at 7 to jog", "2027-03-02T07:00:00-06:00"),  # 07:00 already past
    ("remind me at 8:30 to dial in", "2027-03-01T08:30:00-06:00"),
    ("remind me at 6:00 to wake the kids", "2027-03-02T06:00:00-06:00"),
    ("remind me at 16:45 to leave", "2027-03-01T16:45:00-06:00"),
    ("remind me at 9 pm to read", "2027-03-01T21:00:00-06:00"),
    ("remind me at 12am to sleep", "2027-03-02T00:00:00-06:00"),
    ("remind me at half past 4 to pick up Leo", "2027-03-01T16:30:00-06:00"),
    ("remind me at quarter past 9 to standup", "2027-03-01T09:15:00-06:00"),
    ("remind me at quarter to 12 to order food", "2027-03-01T11:45:00-06:00"),
    ("remind me at 5 o'clock to go", "2027-03-01T17:00:00-06:00"),
    # parts of the day
    ("remind me at noon to eat lunch", "2027-03-01T12:00:00-06:00"),
    ("remind me at midday to check mail", "2027-03-01T12:00:00-06:00"),
    ("remind me at midnight to rotate logs", "2027-03-02T00:00:00-06:00"),
    ("remind me this evening to call grandma", "2027-03-01T18:00:00-06:00"),
    ("remind me tonight to pack", "2027-03-01T20:00:00-06:00"),
    ("remind me tomorrow afternoon to water the lawn", "2027-03-02T15:00:00-06:00"),
    ("remind me tmrw morning to buy bread", "2027-03-02T09:00:00-06:00"),
    ("remind me at 8 tonight to lock up", "2027-03-01T20:00:00-06:00"),
    ("remind me at 7 in the evening to cook", "2027-03-01T19:00:00-06:00"),
    ("remind me eod to file the report", "2027-03-01T17:00:00-06:00"),
    # weekdays: nearest strictly after today; "next" = following calendar week
    ("remind me Wednesday to send the invoice", "2027-03-03T09:00:00-06:00"),
    ("remind me this Wednesday to send the invoice", "2027-03-03T09:00:00-06:00"),
    ("remind me on Monday to plan", "2027-03-08T09:00:00-06:00"),
    ("remind me next Wednesday to send the invoice", "2027-03-10T09:00:00-06:00"),
    ("remind me next Sunday to relax", "2027-03-14T09:00:00-05:00"),
    ("remind me Friday at 4pm to leave early", "2027-03-05T16:00:00-06:00"),
    ("remind me on fri evening to book the table", "2027-03-05T18:00:00-06:00"),
    # relative days, weeks, months
    ("remind me tomorrow to renew", "2027-03-02T09:00:00-06:00"),
    ("remind me the day after tomorrow to renew", "2027-03-03T09:00:00-06:00"),
    ("remind me next week to renew", "2027-03-08T09:00:00-06:00"),
    ("remind me next month to renew", "2027-04-01T09:00:00-05:00"),
    # "in N units": exact for minutes/hours, wall clock kept for days and longer
    ("remind me in 90 minutes to stand up", "2027-03-01T09:30:00-06:00"),
    ("remind me in two hours to eat", "2027-03-01T10:00:00-06:00"),
    ("remind me in 10 mins to check the oven", "2027-03-01T08:10:00-06:00"),
    ("remind me in 3 hrs to move the car", "2027-03-01T11:00:00-06:00"),
    ("remind me in half an hour to call back", "2027-03-01T08:30:00-06:00"),
    ("remind me in 2 days to follow up", "2027-03-03T08:00:00-06:00"),
    ("remind me in 2 weeks to follow up", "2027-03-15T08:00:00-05:00"),  # across DST
    ("remind me in 1 month to follow up", "2027-04-01T08:00:00-05:00"),
    ("remind me in 3 days at noon to follow up", "2027-03-04T12:00:00-06:00"),
    ("remind me in 5 days at 4pm to review", "2027-03-06T16:00:00-06:00"),
    ("remind me in a fortnight to water", "2027-03-15T08:00:00-05:00"),
    ("remind me this time tomorrow to call back", "2027-03-02T08:00:00-06:00"),
    ("remind me first thing tomorrow to email Ana", "2027-03-02T09:00:00-06:00"),
    ("remind me at the start of next month to renew", "2027-04-01T09:00:00-05:00"),
    ("remind me at the beginning of next week to plan", "2027-03-08T09:00:00-06:00"),
    # calendar dates; a passed date means next year
    ("remind me Mar 5 to pay", "2027-03-05T09:00:00-06:00"),
    ("remind me on 5 March to pay", "2027-03-05T09:00:00-06:00"),
    ("remind me March 5th to pay", "2027-03-05T09:00:00-06:00"),
    ("remind me on the 5th of March to pay", "2027-03-05T09:00:00-06:00"),
    ("remind me on 2027-03-05 to pay", "2027-03-05T09:00:00-06:00"),
    ("remind me Feb 10 to file taxes", "2028-02-10T09:00:00-06:00"),
    ("remind me on April 2 at 3pm to call", "2027-04-02T15:00:00-05:00"),
    ("remind me on 25/12 to buy gifts", "2027-12-25T09:00:00-06:00"),
    ("remind me on the 3rd of next month to pay", "2027-04-03T09:00:00-05:00"),
    ("remind me on the 15th to pay the card", "2027-03-15T09:00:00-05:00"),
    # written zones override the request's zone
    ("remind me at 3pm PST to join", "2027-03-01T15:00:00-08:00"),
    ("remind me at 10:00 London time to call", "2027-03-02T10:00:00+00:00"),
    ("remind me at 9:30 IST to sync with Pune", "2027-03-02T09:30:00+05:30"),
    ("remind me at 10am UTC to deploy", "2027-03-02T10:00:00+00:00"),
    ("remind me tomorrow at 9 ET to call Sam", "2027-03-02T09:00:00-05:00"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_one_off_times(parse: Parse, text: str, expected: str) -> None:
    intent = parse(text)
    assert intent.intent == "create_reminder"
    assert iso(intent.next_runs) == [expected]
    assert intent.schedule is not None and intent.schedule.kind == "once"


DUE_CASES = [
    ("add task write the proposal due Friday", "2027-03-05T17:00:00-06:00"),
    ("todo: pay the deposit by tomorrow", "2027-03-02T17:00:00-06:00"),
    ("new task ship the beta by EOD", "2027-03-01T17:00:00-06:00"),
    ("add task close the books by end of month", "2027-03-31T17:00:00-05:00"),
    ("add task clean the queue due EOW", "2027-03-05T17:00:00-06:00"),
    ("add task tidy the wiki due Friday at noon", "2027-03-05T12:00:00-06:00"),
    ("add task submit the grant due in 3 days", "2027-03-04T08:00:00-06:00"),
    ("add task plan the offsite due Mar 20", "2027-03-20T17:00:00-05:00"),
    ("add task renew the domain due next Wednesday", "2027-03-10T17:00:00-06:00"),
    ("add task ship v2 by the end of next week", "2027-03-12T17:00:00-06:00"),
    ("add task close the quarter by end of next month", "2027-04-30T17:00:00-05:00"),
]


@pytest.mark.parametrize(("text", "expected"), DUE_CASES)
def test_deadlines_default_to_five_pm(parse: Parse, text: str, expected: str) -> None:
    intent = parse(text)
    assert intent.intent == "create_task"
    assert intent.due is not None and intent.due.isoformat() == expected
    assert intent.schedule is None and intent.next_runs == []


def test_hours_are_elapsed_time_across_a_dst_change(parse: Parse) -> None:
    intent = parse("remind me in 24 hours to rotate keys", now="2027-03-13T12:00")
    assert iso(intent.next_runs) == ["2027-03-14T13:00:00-05:00"]
    wall = parse("remind me tomorrow at 12 to rotate keys", now="2027-03-13T12:00")
    assert iso(wall.next_runs) == ["2027-03-14T12:00:00-05:00"]


def test_a_time_in_the_spring_forward_gap_moves_forward(parse: Parse) -> None:
    intent = parse("remind me tomorrow at 2:30 to check the clocks", now="2027-03-13T12:00")
    assert iso(intent.next_runs) == ["2027-03-14T03:00:00-05:00"]


def test_naming_today_on_that_day_asks_back(parse: Parse) -> None:
    intent = parse("remind me Monday to plan")  # said on a Monday
    assert intent.clarification is not None
    assert iso(intent.next_runs) == ["2027-03-08T09:00:00-06:00"]


def test_next_weekday_that_is_tomorrow_asks_back(parse: Parse) -> None:
    intent = parse("remind me next Friday to pay", now="2027-03-04T10:00")  # a Thursday
    assert iso(intent.next_runs) == ["2027-03-12T09:00:00-06:00"]
    assert intent.clarification is not None


def test_numeric_day_month_dates_ask_back(parse: Parse) -> None:
    intent = parse("remind me on 3/12 to renew the lease")
    assert intent.clarification is not None
    assert intent.confidence <= 0.6


def test_naive_and_aware_now_agree(parser: object) -> None:
    from datetime import datetime

    from core.intents.rules import RuleParser

    rule = RuleParser()
    naive = rule.parse("remind me at 5 to go", now=datetime(2027, 3, 1, 8), tz="Asia/Tokyo")
    assert iso(naive.next_runs) == ["2027-03-01T17:00:00+09:00"]


def test_end_of_week_said_late_on_friday_is_next_friday(parse: Parse) -> None:
    intent = parse("add task send the summary due EOW", now="2027-03-05T18:00")
    assert intent.due is not None and intent.due.isoformat() == "2027-03-12T17:00:00-06:00"
