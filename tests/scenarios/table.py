"""Multi-turn scripted conversations, generated from behaviour templates.

Each template is one behaviour (a reminder fires on time in the right place, a
question belongs to the person asked, a restart forgets nothing, a viewer
cannot run …) written once and instantiated over several people, zones,
channels and times, so the suite checks the behaviour rather than sentences.

A scenario is a script (the JSON Lines of shared/CONVERSATION.md) plus checks:
``expect`` — for each, some output line matches every field (``text`` is a
regular expression searched in the text; other fields compare equal);
``absent`` — regular expressions no output text may match;
``once`` — regular expressions exactly one output text matches;
``tasks`` — fields of tasks in the last ``dump`` (by id), and ``count``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOW = "2026-11-26T12:00:00+01:00"  # a Thursday, noon in Berlin
TZ = "Europe/Berlin"


@dataclass
class Scenario:
    name: str
    script: list[dict[str, Any]]
    expect: list[dict[str, Any]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    once: list[str] = field(default_factory=list)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    count: int | None = None
    now: str = NOW
    tz: str = TZ


PEOPLE = [
    ("ana", "Europe/Berlin", "+01:00"),
    ("bob", "America/New_York", "-05:00"),
    ("chen", "Asia/Tokyo", "+09:00"),
    ("dara", "Europe/London", "+00:00"),
    ("eli", "Europe/Berlin", "+01:00"),
]
CHANNELS = ["eng", "ops", "design", "sales", "support"]
OTHERS = ["bob", "ana", "dara", "chen", "ana"]


def _local(offset: str, hhmm: str, day: int = 26) -> str:
    return f"2026-11-{day:02d}T{hhmm}:00{offset}"


def _at_berlin(iso: str) -> str:
    """The output ``at`` field is written in the script's zone (Berlin here)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo(TZ)).isoformat(timespec="seconds")


def scenarios() -> list[Scenario]:
    out: list[Scenario] = []
    for i, (who, tz, off) in enumerate(PEOPLE):
        other = OTHERS[i]
        chan = CHANNELS[i]
        person = {"person": who, "tz": tz}
        # Noon Berlin is 06:00 New York, 20:00 Tokyo, 11:00 London: pick a time ahead.
        hour = {"bob": "07:00", "chen": "21:00", "dara": "13:00"}.get(who, "15:00")
        word = {"bob": "7am", "chen": "9pm", "dara": "1pm"}.get(who, "3pm")
        fire = _at_berlin(_local(off, hour))

        out.append(
            Scenario(
                f"dm-reminder-fires-at-its-time-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": f"remind me at {word} to call the bank"},
                    {"wait": "PT12H"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {
                        "to": who,
                        "in": "dm",
                        "visibility": "private",
                        "task": 1,
                        "text": r"Got it — #1 'call the bank'",
                    },
                    {
                        "at": fire,
                        "to": who,
                        "in": "dm",
                        "task": 1,
                        "text": r"^Reminder: call the bank \[Reopen\]",
                    },
                ],
                tasks={
                    1: {
                        "status": "done",
                        "private": True,
                        "created_by": who,
                        "assignees": [who],
                        "kind": "reminder",
                    }
                },
            )
        )
        out.append(
            Scenario(
                f"channel-reminder-posts-publicly-{chan}",
                [
                    person,
                    {
                        "as": who,
                        "in": "dm",
                        "say": f"remind #{chan} every weekday at 9:30 to post updates",
                    },
                    {"wait": "P1D"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {
                        "to": None,
                        "in": f"#{chan}",
                        "visibility": "public",
                        "task": 1,
                        "text": r"^Reminder: post updates",
                    },
                ],
                tasks={1: {"status": "open", "channel": chan, "private": False}},
            )
        )
        out.append(
            Scenario(
                f"snooze-after-fire-fires-again-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me in 1 hour to stretch"},
                    {"wait": "PT1H"},
                    {"as": who, "in": "dm", "say": "snooze 1h"},
                    {"wait": "PT2H"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"Snoozed #1 'stretch'", "to": who},
                    {"at": _at_berlin("2026-11-26T14:00:00+01:00"), "text": r"^Reminder: stretch"},
                ],
                tasks={1: {"status": "done"}},
            )
        )
        out.append(
            Scenario(
                f"restart-in-the-middle-keeps-the-reminder-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me in 2 hours to water plants"},
                    {"restart": True},
                    {"wait": "PT3H"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {
                        "at": _at_berlin("2026-11-26T14:00:00+01:00"),
                        "to": who,
                        "text": r"^Reminder: water plants",
                    }
                ],
                tasks={1: {"status": "done"}},
            )
        )
        out.append(
            Scenario(
                f"downtime-delivery-says-how-late-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me in 30 minutes to join the call"},
                    {"stop": "PT1H"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {
                        "at": _at_berlin("2026-11-26T13:00:00+01:00"),
                        "text": r"Reminder: join the call \(late by 30 min",
                    }
                ],
                tasks={1: {"status": "done"}},
            )
        )
        out.append(
            Scenario(
                f"question-belongs-to-the-asker-{who}-{other}",
                [
                    person,
                    {"as": who, "in": f"#{chan}", "say": "remind me to renew the domain"},
                    {"as": other, "in": f"#{chan}", "say": "tomorrow at 3pm"},
                    {"as": who, "in": f"#{chan}", "say": "tomorrow at 4pm"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"to": who, "visibility": "private", "text": r"When should I remind you"},
                    {"to": who, "text": r"Got it — #1 'renew the domain', tomorrow"},
                ],
                absent=[r"Snoozed"],
                tasks={1: {"title": "renew the domain", "created_by": who}},
                count=1,
            )
        )
        out.append(
            Scenario(
                f"question-survives-a-restart-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me to pay rent"},
                    {"restart": True},
                    {"as": who, "in": "dm", "say": "tomorrow at 10am"},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"Got it — #1 'pay rent', tomorrow"}],
                count=1,
            )
        )
        out.append(
            Scenario(
                f"stale-question-does-not-leak-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": f"remind @{other} about the offsite"},
                    {"as": who, "in": "dm", "say": "add task order pizza"},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"Got it — #1 'order pizza'"}],
                tasks={1: {"title": "order pizza", "assignees": []}},
                count=1,
            )
        )
        out.append(
            Scenario(
                f"done-outside-a-thread-never-hits-an-old-done-task-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "add task write minutes"},
                    {"as": who, "in": "dm", "say": "done 1"},
                    {"wait": "PT1H"},
                    {"as": who, "in": "dm", "say": "done"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"Done — #1 'write minutes'"},
                    {"text": r"not sure which task|Which task"},
                ],
                tasks={1: {"status": "done"}},
            )
        )
        out.append(
            Scenario(
                f"snooze-with-nothing-fired-asks-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "add task old thing"},
                    {"as": who, "in": "dm", "say": "done 1"},
                    {"wait": "P1D"},
                    {"as": who, "in": "dm", "say": "snooze 1h"},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"not sure which task|Which task"}],
                absent=[r"Snoozed"],
                tasks={1: {"status": "done"}},
            )
        )
        out.append(
            Scenario(
                f"delete-then-restore-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "add task draft the memo"},
                    {"as": who, "in": "dm", "say": "delete task 1"},
                    {"as": who, "in": "dm", "say": "restore #1"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"Say 'restore #1' to undo"},
                    {"text": r"Restored #1 'draft the memo'"},
                ],
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"delete-everything-creates-nothing-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "add task alpha report"},
                    {"as": who, "in": "dm", "say": "add task beta report"},
                    {"as": who, "in": "dm", "say": "delete everything"},
                    {"as": who, "in": "dm", "say": "yes"},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"Delete all 2 of your tasks"}, {"text": r"Deleted 2 task"}],
                absent=[r"'delete everything'"],
                count=0,
            )
        )
        out.append(
            Scenario(
                f"dm-tasks-are-private-{who}-{other}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "add task secret gift"},
                    {"as": other, "in": f"#{chan}", "say": "list"},
                    {"as": who, "in": "dm", "say": "list"},
                    {"as": other, "in": "dm", "say": "done secret gift"},
                    {"as": other, "in": "dm", "say": "done 1"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"to": other, "visibility": "private", "text": r"Open tasks: nothing"},
                    {"to": who, "text": r"#1 secret gift"},
                    {"to": other, "text": r"can't find a task called 'secret gift'"},
                    {"to": other, "text": r"no task #1 you can see"},
                ],
                tasks={1: {"private": True, "status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"viewer-cannot-run-or-snooze-{who}-{other}",
                [
                    person,
                    {"person": other, "role": "viewer"},
                    {"as": who, "in": f"#{chan}", "say": "add task deploy v2"},
                    {"as": other, "in": f"#{chan}", "say": "run 1 now"},
                    {"as": other, "press": "snooze:20", "task": 1},
                    {"as": other, "in": f"#{chan}", "say": "done 1"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"to": other, "text": r"Viewers cannot run"},
                    {"to": other, "text": r"Viewers cannot snooze"},
                    {"to": other, "text": r"Viewers cannot change"},
                ],
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"channel-task-card-is-public-{chan}",
                [
                    person,
                    {"as": who, "in": f"#{chan}", "say": f"add task deploy v2 for @{other}"},
                    {"as": who, "in": f"#{chan}", "say": "remind me tomorrow at 9 to check logs"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {
                        "in": f"#{chan}",
                        "visibility": "public",
                        "task": 1,
                        "text": r"Got it — #1 'deploy v2'",
                    },
                    {
                        "in": f"#{chan}",
                        "visibility": "private",
                        "task": 2,
                        "text": r"Got it — #2 'check logs'",
                    },
                ],
                tasks={
                    1: {"channel": chan, "assignees": [other], "private": False},
                    2: {"channel": None, "private": True},
                },
            )
        )
        out.append(
            Scenario(
                f"thread-reply-acts-on-its-task-{chan}",
                [
                    person,
                    {"as": who, "in": f"#{chan}", "say": "add task fix the build"},
                    {"as": who, "in": f"#{chan}", "say": "add task update docs"},
                    {"as": other, "in": f"#{chan}>1", "say": "done"},
                    {"dump": "tasks"},
                ],
                expect=[{"in": f"#{chan}>1", "text": r"Done — #1 'fix the build'"}],
                tasks={1: {"status": "done"}, 2: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"rename-unassign-show-who-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": f"add task deploy v2 for @{other} and me"},
                    {"as": who, "in": "dm", "say": "rename #1 to deploy v3"},
                    {"as": who, "in": "dm", "say": f"unassign {other} from #1"},
                    {"as": who, "in": "dm", "say": "who is on 1"},
                    {"as": who, "in": "dm", "say": "show task 1"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"Renamed #1 to 'deploy v3'"},
                    {"text": rf"Removed @{other} from #1"},
                    {"text": rf"On #1 'deploy v3': @{who}\."},
                    {"text": r"^#1 'deploy v3'"},
                ],
                tasks={1: {"title": "deploy v3", "assignees": [who]}},
            )
        )
        out.append(
            Scenario(
                f"comment-search-next-run-how-long-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "every day at 9 run the sync reminder"},
                    {"as": who, "in": "dm", "say": "remind me every day at 9 to check the sync"},
                    {"as": who, "in": "dm", "say": "add a comment to #1: watch the disk"},
                    {"as": who, "in": "dm", "say": "search for sync"},
                    {"as": who, "in": "dm", "say": "search for DISK"},
                    {"as": who, "in": "dm", "say": "when is the next run of 1?"},
                    {"as": who, "in": "dm", "say": "how long will 'check the sync' take?"},
                ],
                expect=[
                    {"text": r"Added your comment to #1"},
                    {"text": r"Tasks matching 'sync'"},
                    {"text": r"Tasks matching 'DISK':\n#1 "},
                    {"text": r"Next run of #1 .*(today|tomorrow)"},
                    {"text": r"can't estimate #2 'check the sync' yet: no finished tasks"},
                ],
            )
        )
        out.append(
            Scenario(
                f"past-time-is-questioned-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me yesterday at 3pm to file taxes"},
                    {"as": who, "in": "dm", "say": "yes"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"yesterday 15:00 has already passed — did you mean tomorrow"},
                    {"text": r"Got it — #1 'file taxes', tomorrow"},
                ],
                count=1,
            )
        )
        out.append(
            Scenario(
                f"due-today-already-past-asks-{who}",
                [
                    {"person": who, "tz": "Europe/Berlin"},
                    {"as": who, "in": "dm", "say": "add task send invoice due today at 9"},
                    {"as": who, "in": "dm", "say": "no"},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"has already passed"}, {"text": r"Got it — #1 'send invoice'"}],
                tasks={1: {"due": "2026-11-26T09:00:00+01:00"}},
            )
        )
        out.append(
            Scenario(
                f"prerequisite-open-asks-before-done-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "add task QA signoff"},
                    {"as": who, "in": "dm", "say": "add task deploy v2 after 'QA signoff'"},
                    {"as": who, "in": "dm", "say": "done 2"},
                    {"as": who, "in": "dm", "say": "no"},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"waits for #1 'QA signoff'"}, {"text": r"left open"}],
                tasks={2: {"status": "open", "depends_on": [1]}},
            )
        )
        out.append(
            Scenario(
                f"undo-a-delete-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "add task book flights"},
                    {"as": who, "in": "dm", "say": "delete task 1"},
                    {"as": who, "in": "dm", "say": "undo"},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"Undone"}],
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"pause-and-resume-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me every day at 8 to drink water"},
                    {"as": who, "in": "dm", "say": "pause 1"},
                    {"wait": "P1D"},
                    {"as": who, "in": "dm", "say": "resume 1"},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"Paused #1"}, {"text": r"Resumed"}],
                absent=[r"^Reminder: drink water"],
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"buttons-done-and-snooze-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me every day at 13:00 to stand up"},
                    {"wait": "PT1H30M"},
                    {"as": who, "press": "snooze:20", "task": 1},
                    {"wait": "PT30M"},
                    {"as": who, "press": "done", "task": 1},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"Snoozed #1 'stand up'", "visibility": "private"},
                    {"text": r"Done for this time — #1 'stand up' repeats"},
                ],
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"timezone-and-roles-{who}",
                [
                    {"person": who, "tz": tz, "role": "admin"},
                    {"person": other, "role": "member"},
                    {"as": who, "in": "dm", "say": "set my timezone to America/Chicago"},
                    {"as": who, "in": "dm", "say": f"make @{other} an admin"},
                    {"as": other, "in": "dm", "say": f"make @{who} a viewer"},
                    {"as": who, "in": "dm", "say": "remind me tomorrow at 9am to stand up"},
                ],
                expect=[
                    {"text": r"time zone is now America/Chicago"},
                    {"text": rf"@{other} is now admin"},
                    {"to": other, "text": rf"@{who} is now viewer"},
                    {"to": who, "text": r"Viewers cannot change tasks"},
                ],
            )
        )
        out.append(
            Scenario(
                f"member-cannot-change-roles-{who}",
                [
                    {"person": who, "tz": tz, "role": "member"},
                    {"as": who, "in": "dm", "say": f"make @{who} an admin"},
                ],
                expect=[{"text": r"Only workspace owners and admins"}],
            )
        )
        out.append(
            Scenario(
                f"snooze-before-the-fire-never-doubles-it-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me in 1 hour to take the cake out"},
                    {"as": who, "press": "snooze:20", "task": 1},
                    {"wait": "PT3H"},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"has not fired yet", "visibility": "private"}],
                once=[r"^Reminder: take the cake out"],
                tasks={1: {"status": "done"}},
            )
        )
        out.append(
            Scenario(
                f"reminder-for-someone-else-reaches-them-{who}-{other}",
                [
                    person,
                    {"person": other, "tz": "Europe/Berlin"},
                    {"as": who, "in": "dm", "say": f"remind @{other} in 3 hours to review the PR"},
                    {"wait": "PT3H"},
                    {"as": other, "in": "dm", "say": "snooze 1h"},
                    {"wait": "PT1H"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {
                        "to": other,
                        "in": "dm",
                        "at": _at_berlin("2026-11-26T15:00:00+01:00"),
                        "text": rf"^Reminder from @{who}: review the PR",
                    },
                    {"to": other, "text": r"Snoozed #1 'review the PR'"},
                    {
                        "to": other,
                        "at": _at_berlin("2026-11-26T16:00:00+01:00"),
                        "text": rf"^Reminder from @{who}: review the PR",
                    },
                ],
                tasks={1: {"assignees": [other], "created_by": who, "private": True}},
            )
        )
        out.append(
            Scenario(
                f"done-after-a-one-off-fired-is-honest-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me in 10 minutes to call mom"},
                    {"wait": "PT10M"},
                    {"as": who, "in": "dm", "say": "done"},
                    {"as": who, "press": "reopen", "task": 1},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"#1 'call mom' is already done"},
                    {"text": r"^Reopened — #1 'call mom'"},
                ],
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"channel-reminder-snoozed-by-a-colleague-{chan}",
                [
                    person,
                    {
                        "as": who,
                        "in": f"#{chan}",
                        "say": f"remind #{chan} in 2 hours to start the retro",
                    },
                    {"wait": "PT2H"},
                    {"as": other, "in": f"#{chan}", "say": "snooze 15 minutes"},
                    {"wait": "PT30M"},
                ],
                expect=[
                    {
                        "in": f"#{chan}",
                        "to": None,
                        "visibility": "public",
                        "text": r"^Reminder: start the retro",
                    },
                    {"to": other, "text": r"Snoozed #1 'start the retro'"},
                    {
                        "in": f"#{chan}",
                        "at": _at_berlin("2026-11-26T14:15:00+01:00"),
                        "text": r"^Reminder: start the retro",
                    },
                ],
            )
        )
        out.append(
            Scenario(
                f"an-answer-never-snoozes-another-task-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me in 1 hour to feed the cat"},
                    {"as": who, "in": "dm", "say": "remind me to call the plumber"},
                    {"as": who, "in": "dm", "say": "tomorrow"},
                    {"as": who, "in": "dm", "say": "yes"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"When should I remind you"},
                    {"text": r"Got it — #2 'call the plumber', tomorrow"},
                ],
                absent=[r"Snoozed", r"nothing to snooze"],
                tasks={1: {"title": "feed the cat", "status": "open"}},
                count=2,
            )
        )
        out.append(
            Scenario(
                f"what-cannot-happen-is-not-confirmed-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "add task deploy v2"},
                    # Task events fire now (issue 11): waiting for a task that does not
                    # exist is what cannot happen.
                    {"as": who, "in": "dm", "say": f"when 'deploy v3' is done, notify #{chan}"},
                    {"as": who, "in": "dm", "say": "every night at 2 run `backup.sh`"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"can't find a task called 'deploy v3'"},
                    {"text": r"Only workspace admins may create shell jobs"},
                ],
                count=1,
            )
        )
        out.append(
            Scenario(
                f"my-timezone-is-used-from-then-on-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "set my timezone to America/Chicago"},
                    {"as": who, "in": "dm", "say": "remind me tomorrow at 9am to stand up"},
                    {"restart": True},
                    {"as": who, "in": "dm", "say": "remind me tomorrow at 10am to stretch"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"time zone is now America/Chicago"},
                    {"text": r"#1 'stand up', tomorrow Fri 27 Nov 09:00 CST"},
                    {"text": r"#2 'stretch', tomorrow Fri 27 Nov 10:00 CST"},
                ],
                tasks={1: {"next_runs": ["2026-11-27T16:00:00+01:00"]}},
            )
        )
        out.append(
            Scenario(
                f"snooze-in-a-fired-reminders-thread-{chan}",
                [
                    person,
                    {"as": who, "in": f"#{chan}", "say": f"remind #{chan} in 1 hour to demo"},
                    {"wait": "PT4H"},
                    {"as": other, "in": f"#{chan}>1", "say": "snooze 30 minutes"},
                    {"as": other, "in": "dm", "say": "yes"},
                    {"wait": "PT1H"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"in": f"#{chan}>1", "to": other, "text": r"Snoozed #1 'demo'"},
                    {"to": other, "text": r"nothing waiting for your 'yes'"},
                    {
                        "in": f"#{chan}",
                        "at": _at_berlin("2026-11-26T16:30:00+01:00"),
                        "text": r"^Reminder: demo",
                    },
                ],
                tasks={1: {"status": "done", "channel": chan}},
            )
        )
        out.append(
            Scenario(
                f"done-on-a-repeating-reminder-is-for-this-time-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me every 2 hours to stretch"},
                    {"wait": "PT2H10M"},
                    {"as": who, "in": "dm", "say": "done"},
                    {"as": who, "press": "done", "task": 1},
                    {"dump": "tasks"},
                ],
                expect=[{"text": r"Done for this time — #1 'stretch' repeats, next"}],
                absent=[r"Which task"],
                tasks={1: {"status": "open"}},
            )
        )
        out.append(
            Scenario(
                f"reschedule-restore-it-and-repeating-moves-{who}",
                [
                    person,
                    {"as": who, "in": "dm", "say": "remind me every day at 9 to stretch"},
                    {"as": who, "in": "dm", "say": "change 1 to every weekday at 10"},
                    {"as": who, "in": "dm", "say": "move 1 to Friday at 11"},
                    {"as": who, "in": "dm", "say": "delete task 1"},
                    {"as": who, "in": "dm", "say": "restore it"},
                    {"dump": "tasks"},
                ],
                expect=[
                    {"text": r"Rescheduled — #1 'stretch', next .* 10:00"},
                    {"text": r"#1 'stretch' repeats\. Say 'snooze #1 until"},
                    {"text": r"Restored #1 'stretch'"},
                ],
                tasks={1: {"status": "open", "due": None}},
            )
        )
    return out


MALFORMED = [
    ('{"as": "ana", "say": "hi"', 1),
    ('{"wait": "soon"}', 1),
    ('{"as": "ana", "press": "explode", "task": 1}', 1),
    ('{"person": "bob", "tz": "Mars/Olympus"}', 1),
    ('{"as": "ana", "in": "somewhere", "say": "hi"}', 1),
]
