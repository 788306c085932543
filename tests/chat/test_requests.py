"""The conversation's own request patterns (what the parser has no intent for)."""

from __future__ import annotations

import pytest

from bot.conversation.requests import Request, match


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("restore #3", Request("restore", "#3")),
        ("Restore task 3", Request("restore", "3")),
        ("pause 10", Request("pause", "10")),
        ("resume the backup", Request("resume", "the backup")),
        ("rename #3 to deploy v3", Request("rename", "#3", "deploy v3")),
        ("unassign bob from #5", Request("unassign", "#5", "bob")),
        ("add a comment to #5: ship it Friday", Request("comment", "#5", "ship it Friday")),
        ("retry 10 3 times", Request("retry", "10", "3")),
        ("show task 5", Request("show", "5")),
        ("who is assigned to 'deploy v2'?", Request("who", "deploy v2")),
        ("who is on 5", Request("who", "5")),
        ("when is the next run of 10?", Request("next_run", "10")),
        ("how long will 'deploy v2' take?", Request("how_long", "deploy v2")),
        ("search for deploy", Request("search", None, "deploy")),
        ("set my timezone to America/New_York", Request("set_tz", None, "America/New_York")),
        ("make @ana an admin", Request("role", "ana", "admin")),
        ("undo", Request("undo")),
        ("delete everything", Request("delete_all")),
        ("what's my next reminder?", Request("next_mine")),
        ("what's done?", Request("list_done")),
        ("show me the completed tasks", Request("list_done")),
        ("change #1 to every weekday at 10", Request("reschedule", "#1", "every weekday at 10")),
        ("move 4 to every Monday", Request("reschedule", "4", "every Monday")),
    ],
)
def test_requests_are_recognised(text: str, expected: Request) -> None:
    assert match(text) == expected


@pytest.mark.parametrize(
    "text",
    ["remind me to pause the music at 5", "add task restore the old server", "done", "list"],
)
def test_ordinary_commands_are_left_to_the_parser(text: str) -> None:
    assert match(text) is None
