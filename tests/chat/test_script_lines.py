"""Validating script lines (shared/CONVERSATION.md) before anything runs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.script import ScriptError, parse_duration, parse_line, parse_script


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT90M", timedelta(minutes=90)),
        ("PT2H", timedelta(hours=2)),
        ("P1D", timedelta(days=1)),
        ("P1DT2H30M", timedelta(days=1, hours=2, minutes=30)),
        ("P2W", timedelta(weeks=2)),
        ("PT45S", timedelta(seconds=45)),
        ("pt5m", timedelta(minutes=5)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "90M", "1 hour", "P1Y"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601 duration"):
        parse_duration(text)


def test_each_kind_of_line() -> None:
    steps = parse_script(
        [
            '{"person": "bob", "tz": "America/New_York", "role": "viewer"}',
            '{"as": "ana", "in": "dm", "say": "hi"}',
            "",
            '{"as": "ana", "in": "#eng>12", "say": "done"}',
            '{"as": "ana", "press": "snooze:tomorrow", "task": 12}',
            '{"wait": "PT90M"}',
            '{"restart": true}',
            '{"stop": "PT2H"}',
            '{"dump": "tasks"}',
        ]
    )
    assert [s.kind for s in steps] == [
        "person", "say", "say", "press", "wait", "restart", "stop", "dump",
    ]  # fmt: skip
    assert steps[2].line_no == 4  # blank lines still count


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"hello": 1}', "unknown line"),
        ('{"as": "ana", "say": 5}', "'say' must be a string"),
        ('{"as": "", "say": "hi"}', "'as' must be a non-empty string"),
        ('{"as": "ana", "in": "#", "say": "hi"}', "'in' must be"),
        ('{"as": "ana", "press": "done"}', "'task' must be a task number"),
        ('{"as": "ana", "press": "snooze:soon", "task": 1}', "unknown button"),
        ('{"person": "bob", "role": "king"}', "'role' must be one of"),
        ('{"restart": "yes"}', "'restart' must be true"),
        ('{"dump": "runs"}', "'dump' must be 'tasks'"),
    ],
)
def test_malformed_lines_say_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message) as caught:
        parse_line(7, line)
    assert str(caught.value).startswith("line 7: ")
