"""Misfire policies: skip, run_once, catch_up (bounded)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.enums import MisfirePolicy, RunTrigger
from core.misfire import decide

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=5)


def hourly_missed(hours: int) -> list[datetime]:
    """Fires every hour up to one minute ago, oldest first."""
    return [NOW - timedelta(minutes=1) - timedelta(hours=h) for h in range(hours - 1, -1, -1)]


def test_nothing_missed() -> None:
    for policy in MisfirePolicy:
        decision = decide(policy, GRACE, [], NOW)
        assert (decision.run, decision.skip, decision.unlisted) == ([], [], 0)


def test_skip_runs_late_fires_and_skips_misfired() -> None:
    decision = decide(MisfirePolicy.SKIP, GRACE, hourly_missed(3), NOW)
    assert decision.run == [NOW - timedelta(minutes=1)]
    assert [r.trigger for r in decision.runs] == [RunTrigger.SCHEDULE]
    assert decision.skip == [
        (
            NOW - timedelta(hours=2, minutes=1),
            "misfired: outside grace window (late by 7260s, grace 300s)",
        ),
        (
            NOW - timedelta(hours=1, minutes=1),
            "misfired: outside grace window (late by 3660s, grace 300s)",
        ),
    ]


def test_grace_may_be_given_in_seconds() -> None:
    assert decide(MisfirePolicy.SKIP, 300, hourly_missed(3), NOW) == decide(
        MisfirePolicy.SKIP, GRACE, hourly_missed(3), NOW
    )


def test_run_once_runs_only_the_newest() -> None:
    missed = [NOW - timedelta(hours=h) for h in (3, 2, 1)]
    decision = decide(MisfirePolicy.RUN_ONCE, GRACE, missed, NOW)
    assert decision.run == [NOW - timedelta(hours=1)]
    assert [r.trigger for r in decision.runs] == [RunTrigger.MISFIRE]
    assert [at for at, _ in decision.skip] == missed[:2]
    assert {reason for _, reason in decision.skip} == {
        "misfired: coalesced into one run for the latest missed fire"
    }


def test_run_once_within_grace_is_an_ordinary_scheduled_run() -> None:
    decision = decide(MisfirePolicy.RUN_ONCE, GRACE, [NOW - timedelta(seconds=30)], NOW)
    assert [r.trigger for r in decision.runs] == [RunTrigger.SCHEDULE]


def test_catch_up_runs_everything_in_order() -> None:
    missed = hourly_missed(5)
    decision = decide(MisfirePolicy.CATCH_UP, GRACE, missed, NOW)
    assert decision.run == missed
    assert [r.trigger for r in decision.runs] == [RunTrigger.MISFIRE] * 4 + [RunTrigger.SCHEDULE]
    assert decision.skip == []


def test_catch_up_is_bounded_for_a_year_of_ten_second_fires() -> None:
    start = NOW - timedelta(days=365)

    def every_ten_seconds() -> Iterator[datetime]:  # 3.15 million fires, never a list
        at = start
        while at <= NOW:
            yield at
            at += timedelta(seconds=10)

    decision = decide(MisfirePolicy.CATCH_UP, GRACE, every_ten_seconds(), NOW)
    assert len(decision.run) == 1000
    assert decision.run[-1] == NOW and decision.run[0] == NOW - timedelta(seconds=9990)
    assert len(decision.skip) == 1000
    assert decision.skip[0] == (start, "misfired: catch-up is limited to the latest 1000 runs")
    assert decision.unlisted == 365 * 8640 + 1 - 2000
    assert not decision.scan_stopped


def test_scan_of_an_endless_iterator_stops() -> None:
    endless = (NOW - timedelta(days=1) + timedelta(seconds=s) for s in itertools.count())
    decision = decide(
        MisfirePolicy.CATCH_UP, GRACE, endless, NOW, max_runs=10, max_records=5, max_scan=50
    )
    assert decision.scan_stopped
    assert len(decision.run) == 10 and len(decision.skip) == 5 and decision.unlisted == 35


def test_future_fires_are_not_missed() -> None:
    decision = decide(MisfirePolicy.CATCH_UP, GRACE, [NOW, NOW + timedelta(seconds=1)], NOW)
    assert decision.run == [NOW]


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="max_runs"):
        decide(MisfirePolicy.CATCH_UP, GRACE, [], NOW, max_runs=0)


def test_fold_times_compare_as_instants() -> None:
    # 02:20 CEST happened 50 minutes before 02:10 CET, although its wall clock is later.
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 10, 25, 2, 10, tzinfo=berlin, fold=1)
    at = datetime(2026, 10, 25, 2, 20, tzinfo=berlin, fold=0)
    decision = decide(MisfirePolicy.SKIP, GRACE, [at], now)
    assert decision.run == []
    assert decision.skip == [(at, "misfired: outside grace window (late by 3000s, grace 300s)")]
