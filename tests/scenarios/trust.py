"""Scenarios for the findings of "a conversation people can trust" not covered by
``table.py``: skipped fires told once, retry policies, search ranking, pause as the one
state, a one-off reopened from its fired message, and "today" as an answer.

Each template is instantiated over the people of ``table.PEOPLE`` (zones differ), so
the behaviour is checked, not a sentence.
"""

from __future__ import annotations

from .table import CHANNELS, OTHERS, PEOPLE, Scenario


def trust_scenarios() -> list[Scenario]:
    out: list[Scenario] = []
    for i, (who, tz, _off) in enumerate(PEOPLE):
        person = {"person": who, "tz": tz}
        chan = CHANNELS[i]
        other = OTHERS[i]
        out.append(
            Scenario(
                f"skipped-fires-are-told-once-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me every day at 9 to stand up"},
                    {"stop": "P4D"},
                    {"dump": "tasks"},
                ],
                # Three fires beyond the day of grace: one message names them all.
                once=[r"^Missed: 'stand up' was due 3 times", r"^Reminder: stand up \(late by"],
                absent=[r"^Missed: .* was due [A-Z][a-z]{2} \d"],
                expect=[{"to": who, "in": "dm", "visibility": "private", "text": r"^Missed"}],
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"skipped-channel-fire-is-told-in-the-channel-{who}",
                [
                    person,
                    {
                        "as": who,
                        "in": f"#{chan}",
                        "say": f"remind #{chan} every day at 10 to check the board",
                    },
                    {"stop": "P3D"},
                ],
                expect=[
                    {
                        "to": None,
                        "in": f"#{chan}",
                        "visibility": "public",
                        "text": r"^Missed: 'check the board'",
                    }
                ],
                once=[r"^Missed: 'check the board'"],
            )
        )
        out.append(
            Scenario(
                f"retry-policy-is-set-and-said-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "add task deploy the site"},
                    {"as": who, "in": "dm", "say": "retry 1 3 times"},
                    {"as": other, "in": "dm", "say": "retry 1 2 times"},
                ],
                expect=[{"to": who, "text": r"retried up to 3 time"}],
                absent=[r"retried up to 2 time"],  # a private task: nobody else can see it
            )
        )
        out.append(
            Scenario(
                f"search-ranks-titles-first-and-reads-comments-{who}",
                [
                    person,
                    {"as": who, "in": f"#{chan}", "say": "add task rotate the keys"},
                    {"as": who, "in": f"#{chan}", "say": "add task deploy v2"},
                    {
                        "as": who,
                        "in": f"#{chan}",
                        "say": "add a comment to #1: after the deploying",
                    },
                    {"as": who, "in": f"#{chan}", "say": "search for deploy"},
                ],
                expect=[{"to": who, "text": r"matching 'deploy'[\s\S]*#2[\s\S]*#1"}],
            )
        )
        out.append(
            Scenario(
                f"paused-reminder-stays-silent-until-resumed-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me every day at 9 to stretch"},
                    {"as": who, "in": "dm", "say": "pause 1"},
                    {"wait": "P2D"},
                    {"as": who, "in": "dm", "say": "resume 1"},
                    {"wait": "P1D"},
                    {"dump": "tasks"},
                ],
                once=[r"^Reminder: stretch"],  # only the fire after the resume
                absent=[r"^Missed"],  # a pause is no misfire
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"fired-one-off-is-reopened-by-its-button-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me in 10 minutes to call the bank"},
                    {"wait": "PT15M"},
                    {"as": who, "press": "reopen", "task": 1},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"^Reminder: call the bank .*\[Reopen\]"}],
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"due-yesterday-is-questioned-never-dropped-{who}",
                [
                    person,
                    {"as": who, "in": f"#{chan}", "say": "add task file the report due yesterday"},
                    {"as": who, "in": f"#{chan}", "say": "tomorrow at 5pm"},
                    {"dump": "tasks"},
                ],
                expect=[{"to": who, "visibility": "private", "text": r"already passed"}],
                absent=[r"due yesterday'"],
                tasks={1: {"title": "file the report", "status": "open"}},
                count=1,
            )
        )
        if who in {"ana", "dara", "eli"}:  # noon or 11:00 local: 9:00, "today"'s default, passed
            out.append(
                Scenario(
                    f"today-as-an-answer-asks-only-the-time-{who}",
                    [
                        person,
                        {"as": who, "in": "dm", "say": "remind me to call Bo"},
                        {"as": who, "in": "dm", "say": "today"},
                        {"as": who, "in": "dm", "say": "5pm"},
                        {"dump": "tasks"},
                    ],
                    expect=[{"to": who, "text": r"^What time today\?"}],
                    absent=[r"has already passed", r"couldn't use"],
                    tasks={1: {"title": "call Bo", "status": "open"}},
                    count=1,
                )
            )
    return out
