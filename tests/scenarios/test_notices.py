"""Scripted conversations (``kairos chat --script``) for each notification rule and preference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .table import Scenario
from .test_scenarios import run, template_db  # noqa: F401  (the fixture)

BOB = {"person": "bob", "tz": "America/New_York"}
LAUNCH = {
    "as": "ana",
    "in": "#eng",
    "say": "task for @bob: write the launch post by tomorrow 17:00",
}


def _s(name: str, script: list[dict[str, Any]], **checks: Any) -> Scenario:
    return Scenario(name=name, script=script, **checks)


SCENARIOS = [
    _s(
        "assigned",
        [BOB, LAUNCH],
        expect=[{"to": "bob", "in": "dm", "task": 1, "text": r"@ana assigned you #1"}],
    ),
    _s(
        "due-soon-day-and-hour-then-overdue-once-across-restart",
        [BOB, LAUNCH, {"wait": "PT20H"}, {"restart": True}, {"wait": "PT20H"}],
        expect=[
            {"to": "bob", "at": "2026-11-26T17:00:00+01:00", "text": r"due in 1 day"},
            {"to": "bob", "at": "2026-11-27T16:00:00+01:00", "text": r"due in 1 hour"},
            {"to": "bob", "at": "2026-11-27T17:00:00+01:00", "text": r"#1 .* is overdue"},
        ],
        once=[r"is overdue", r"due in 1 hour", r"due in 1 day"],
    ),
    _s(
        "done-task-gets-no-due-notices",
        [BOB, LAUNCH, {"as": "bob", "in": "dm", "say": "done #1"}, {"wait": "P2D"}],
        absent=[r"due in", r"overdue"],
    ),
    _s(
        "prerequisite-done",
        [
            BOB,
            LAUNCH,
            {"as": "ana", "in": "dm", "say": "task: review budget by Monday 10:00 after #1"},
            {"as": "bob", "in": "dm", "say": "done #1"},
        ],
        expect=[{"to": "ana", "task": 2, "text": r"#1 'write the launch post' is done: #2"}],
    ),
    _s(
        "workflow-finished-told-once-to-its-owner",
        [
            {"as": "ana", "in": "dm", "say": "add task 'backup' due tomorrow"},
            {"as": "ana", "in": "dm", "say": "add task 'report' due tomorrow"},
            {"as": "ana", "in": "dm", "say": "after the backup succeeds run the report"},
            {"as": "ana", "in": "dm", "say": "run the backup workflow"},
            {"as": "ana", "in": "dm", "say": "done backup"},
            {"as": "ana", "in": "dm", "say": "done report"},
            {"wait": "PT1H"},
            {"restart": True},
            {"wait": "PT1H"},
        ],
        expect=[{"to": "ana", "in": "dm", "text": r"🏁 Workflow 'backup' finished"}],
        once=[r"Workflow 'backup' finished"],
    ),
    _s(
        "workflow-notice-waits-for-quiet-hours",
        [
            {"as": "ana", "in": "dm", "say": "my quiet hours are 00:00–23:00"},
            {"as": "ana", "in": "dm", "say": "add task 'backup' due tomorrow"},
            {"as": "ana", "in": "dm", "say": "add task 'report' due tomorrow"},
            {"as": "ana", "in": "dm", "say": "after the backup succeeds run the report"},
            {"as": "ana", "in": "dm", "say": "run the backup workflow"},
            {"as": "ana", "in": "dm", "say": "done backup"},
            {"as": "ana", "in": "dm", "say": "done report"},
            {"wait": "P1D"},
        ],
        expect=[{"to": "ana", "at": "2026-11-26T23:00:00+01:00", "text": r"Workflow 'backup'"}],
    ),
    _s(
        "quiet-hours-hold-until-they-end",
        [
            BOB,
            {"as": "bob", "in": "dm", "say": "my quiet hours are 19:00–08:00"},
            {"as": "ana", "in": "#eng", "say": "task for @bob: ship it by tomorrow 3:00"},
            {"wait": "P1DT4H"},
        ],
        expect=[
            {"to": "bob", "text": r"Quiet hours set: 19:00–08:00 \(America/New_York\)"},
            # Said at 06:00 in New York: held until 08:00 there (14:00 Berlin).
            {"to": "bob", "at": "2026-11-26T14:00:00+01:00", "text": r"assigned you #1"},
            # Due 03:00 Berlin = 21:00 New York, in quiet hours: the overdue notice waits
            # until 08:00 New York; the "due in 1 hour" (20:00 there) is then stale.
            {"to": "bob", "at": "2026-11-27T14:00:00+01:00", "text": r"#1 'ship it' is overdue"},
        ],
        absent=[r"due in 1 hour"],
    ),
    _s(
        "route-to-the-channel",
        [
            BOB,
            {"as": "bob", "in": "dm", "say": "send my notifications in the channel"},
            LAUNCH,
        ],
        expect=[
            {"to": "bob", "text": r"in the task's channel"},
            {"in": "#eng", "visibility": "public", "text": r"^@bob 📌 @ana assigned you #1"},
        ],
    ),
    _s(
        "batching-low-priority",
        [
            BOB,
            {"as": "bob", "in": "dm", "say": "batch low priority notifications every 30 minutes"},
            {
                "as": "ana",
                "in": "#eng",
                "say": "low priority task for @bob: tidy the wiki by Monday",
            },
            {
                "as": "ana",
                "in": "#eng",
                "say": "low priority task for @bob: sort the inbox by Monday",
            },
            {"wait": "PT40M"},
        ],
        expect=[
            {"to": "bob", "text": r"once every 30 min"},
            {"to": "bob", "at": "2026-11-26T12:30:00+01:00", "text": r"^2 notifications:"},
        ],
        absent=[r"^📌"],
    ),
    _s(
        "mute-a-task",
        [
            BOB,
            LAUNCH,
            {"as": "bob", "in": "dm", "say": "mute #1"},
            {"wait": "P2D"},
            {"as": "bob", "in": "dm", "say": "my settings"},
        ],
        expect=[
            {"to": "bob", "text": r"Muted #1"},
            {"to": "bob", "text": r"Muted tasks: #1"},
        ],
        absent=[r"due in", r"overdue"],
    ),
    _s(
        "settings-shown",
        [
            BOB,
            {"as": "bob", "in": "dm", "say": "send my reminders by DM"},
            {"as": "bob", "in": "dm", "say": "my settings"},
        ],
        expect=[{"to": "bob", "text": r"Delivered by direct message[\s\S]*Quiet hours: none"}],
    ),
    _s(
        "at-risk-to-the-assignee-and-in-the-digest",
        [
            BOB,
            {"as": "ana", "in": "#eng", "say": "task: write report draft 1 by Monday 10:00"},
            {"as": "ana", "in": "#eng", "say": "task: write report draft 2 by Monday 10:00"},
            {"as": "ana", "in": "#eng", "say": "task: write report draft 3 by Monday 10:00"},
            {"wait": "PT10H"},
            {"as": "ana", "in": "#eng", "say": "done #1"},
            {"as": "ana", "in": "#eng", "say": "done #2"},
            {"as": "ana", "in": "#eng", "say": "done #3"},
            {"as": "ana", "in": "#eng", "say": "task for @bob: write report draft 4 by 23:30"},
            {"as": "ana", "in": "#eng", "say": "post a digest of #eng every day at 23:00"},
            {"wait": "PT1H"},
        ],
        expect=[
            {"to": "bob", "in": "dm", "task": 4, "text": r"#4 .* is at risk: .* about 10\.0 h"},
            {"in": "#eng", "text": r"At risk \(1\):\n  ⚠ #4 write report draft 4"},
        ],
        once=[r"is at risk"],
    ),
    _s(
        "reports-on-demand-and-scheduled",
        [
            BOB,
            {"as": "ana", "in": "#eng", "say": "post the weekly report every Monday at 9"},
            LAUNCH,
            {"as": "ana", "in": "#ops", "say": "task: rotate keys by tomorrow 10:00"},
            {"wait": "PT2H"},
            {"as": "bob", "in": "dm", "say": "done #2"},
            {"wait": "P4D"},
            {"as": "ana", "in": "dm", "say": "how did the team do last week?"},
            {"wait": "P2D"},
            {"as": "ana", "in": "dm", "say": "monthly report for #eng"},
        ],
        expect=[
            {
                "in": "#eng",
                "at": "2026-11-30T09:00:00+01:00",
                "text": r"^Report for the team — week of Mon 23 Nov – Sun 29 Nov 2026\n"
                r"Done: 1 \(\+1\) · planned \(due\): 2 \(\+2\), of which done 1 \(50%\)",
            },
            {"to": "ana", "text": r"Overdue at the end: 1 \(\+1\)[\s\S]*#ops: 0 done, 0/1"},
            {"to": "ana", "text": r"^Report for #eng — November 2026\nDone: 1 \(\+1\)"},
        ],
    ),
    _s(
        "prerequisite-failed-after-its-last-retry",
        [
            {"person": "ana", "role": "admin"},
            {
                "as": "ana",
                "in": "#ops",
                "say": "every day at 13:00 fetch http://127.0.0.1:9/health",
            },
            {"as": "ana", "in": "#ops", "say": "task for @bob: deploy after #1 by tomorrow 17:00"},
            {"wait": "PT1H30M"},
        ],
        expect=[
            {"to": "bob", "in": "dm", "task": 2, "text": r"^❌ #1 'fetch .*' failed \(.*\): #2"}
        ],
        once=[r"^❌"],
    ),
    _s(
        "estimate-in-chat",
        [
            {"as": "ana", "in": "dm", "say": "task: deploy v1 by tomorrow 17:00"},
            {"wait": "PT2H"},
            {"as": "ana", "in": "dm", "say": "done #1"},
            {"as": "ana", "in": "dm", "say": "how long will 'deploy v2' take?"},
        ],
        expect=[{"to": "ana", "text": r"'deploy v2' will likely take about 2\.0 h"}],
        absent=[r"can't estimate"],
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_notice_scenario(
    scenario: Scenario,
    template_db: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from .test_scenarios import test_scenario

    # A job that fails for sure: a local port nothing listens on.
    monkeypatch.setenv("KAIROS_HTTP_ALLOW_PRIVATE", "true")
    test_scenario(scenario, template_db, tmp_path)
