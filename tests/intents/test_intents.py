"""Intent classification and the fields of each intent, on phrasings of our own."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Parse

INTENTS = [
    ("can you remind me to ring the plumber tomorrow", "create_reminder"),
    ("ping #infra every Friday at 4 to rotate the pager", "create_reminder"),
    ("poke @lena in 20 minutes about the slides", "create_reminder"),
    ("don't let me forget to book the vet on Saturday", "create_reminder"),
    ("set a reminder for 6pm to call the garage", "create_reminder"),
    ("add task tidy the release notes", "create_task"),
    ("todo: order new chairs", "create_task"),
    ("new task - upgrade node to 22", "create_task"),
    ("@maya could you draft the press release by Wednesday", "create_task"),
    ("I need to finish the audit by next week", "create_task"),
    ("every night at 1 run `cleanup.sh`", "schedule_job"),
    ("each morning summarize #alerts", "schedule_job"),
    ("every monday at 8 send the weekly digest to #all-hands", "schedule_job"),
    ("every 10 minutes fetch https://example.net/metrics", "schedule_job"),
    ("what's on my plate today", "list_tasks"),
    ("show open tasks", "list_tasks"),
    ("what is priya working on?", "list_tasks"),
    ("anything overdue", "list_tasks"),
    ("list reminders for @omar", "list_tasks"),
    ("done!", "complete_task"),
    ("mark #77 as complete", "complete_task"),
    ("finished the budget draft", "complete_task"),
    ("the invoice run is done", "complete_task"),
    ("move it to Monday", "update_task"),
    ("push the retro to next week", "update_task"),
    ("reassign 19 to @kim", "update_task"),
    ("make the outage postmortem high priority", "update_task"),
    ("rename 8 to 'Q3 roadmap'", "update_task"),
    ("cancel the gym reminder", "delete_task"),
    ("delete #31", "delete_task"),
    ("stop the hourly ping", "delete_task"),
    ("snooze 15 min", "snooze"),
    ("snooze until tomorrow", "snooze"),
    ("remind me again in an hour", "snooze"),
    ("later", "snooze"),
    ("run the export now", "run_task"),
    ("trigger 42", "run_task"),
    ("rerun the nightly build", "run_task"),
    ("why did the invoice sync fail?", "show_history"),
    ("show the last runs of the cleanup job", "show_history"),
    ("how often does 12 fail", "show_history"),
    ("when did the backup last run?", "show_history"),
    ("monthly report", "report"),
    ("summarize what happened this week", "report"),
    ("give me a recap of #eng", "report"),
    ("help", "help"),
    ("what can you do", "help"),
    ("how do I use this?", "help"),
    ("tell me a story", "unknown"),
    ("good morning team", "unknown"),
    ("", "unknown"),
    ("🤷", "unknown"),
    ("¿qué tal?", "unknown"),
]


@pytest.mark.parametrize(("text", "kind"), INTENTS)
def test_intent_kind(parse: Parse, text: str, kind: str) -> None:
    assert parse(text).intent == kind


FIELDS: list[tuple[str, dict[str, Any]]] = [
    (
        "remind me to submit the quarterly taxes at 4pm",
        {"title": "submit the quarterly taxes", "assignees": ["me"]},
    ),
    (
        "at 3 remind @noor and @li to join the call",
        {"title": "join the call", "assignees": ["noor", "li"]},
    ),
    (
        "remind @U0G9QF9C6 tomorrow to send the deck",
        {"assignees": ["U0G9QF9C6"], "title": "send the deck"},
    ),
    (
        "ping #C0123ABC at 5 to freeze the branch",
        {"channel": "C0123ABC", "title": "freeze the branch"},
    ),
    (
        "nudge @sam on Friday about the expense report",
        {"title": "the expense report", "assignees": ["sam"]},
    ),
    (
        "remind the team in #ops every weekday at 10 that the standup moved",
        {"channel": "ops", "title": "the standup moved"},
    ),
    (
        "add task 'migrate billing' for @ana due Friday, critical, after 'schema freeze' and "
        "'backfill'",
        {
            "title": "migrate billing",
            "assignees": ["ana"],
            "priority": "urgent",
            "depends_on": ["schema freeze", "backfill"],
        },
    ),
    ("todo: book the venue, important", {"title": "book the venue", "priority": "high"}),
    ("new task: sort the swag, whenever", {"title": "sort the swag", "priority": "low"}),
    (
        "add task update the SLA doc with priority medium",
        {"title": "update the SLA doc", "priority": "normal"},
    ),
    (
        "create task publish the changelog after task 12",
        {"title": "publish the changelog", "depends_on": ["12"]},
    ),
    (
        "add task cut the release once QA signoff is done",
        {"title": "cut the release", "depends_on": ["QA signoff"]},
    ),
    (
        "add a task for me to renew the certificate asap",
        {"title": "renew the certificate", "assignees": ["me"], "priority": "urgent"},
    ),
    ("mark task 5 as done", {"task_ref": "5"}),
    ("done with #61", {"task_ref": "61"}),
    ("finished it", {"task_ref": "this"}),
    ("delete the dentist reminder", {"task_ref": "the dentist reminder"}),
    ("assign 31 to priya", {"task_ref": "31", "assignees": ["priya"]}),
    ("give the onboarding doc to @theo", {"task_ref": "the onboarding doc", "assignees": ["theo"]}),
    ("make the launch low priority", {"task_ref": "the launch", "priority": "low"}),
    ("rename 8 to 'Q3 roadmap'", {"task_ref": "8", "title": "Q3 roadmap"}),
    ("run the db backup now", {"task_ref": "the db backup"}),
    ("why did the nightly import fail?", {"task_ref": "the nightly import"}),
    ("show failed runs of 23", {"task_ref": "23"}),
    ("what is jonas working on", {"assignees": ["jonas"]}),
    ("my tasks for this week", {"assignees": ["me"]}),
    ("summarize #support", {"channel": "support"}),
    (
        "remind dana to send the invoice tomorrow",
        {"assignees": ["dana"], "title": "send the invoice"},
    ),
    (
        "remind alice and carol at 4 to join the call",
        {"assignees": ["alice", "carol"], "title": "join the call"},
    ),
    ("remind me that the rent is due on the 1st", {"title": "the rent is due"}),
    (
        "ask @bob to review the PR by Friday",
        {"intent": "create_task", "title": "review the PR", "assignees": ["bob"]},
    ),
    ("cancel my 3pm reminder", {"intent": "delete_task", "task_ref": "my 3pm reminder"}),
    ("don't remind me about the gym anymore", {"intent": "delete_task", "task_ref": "the gym"}),
    ("add @bob to task 5", {"intent": "update_task", "task_ref": "5", "assignees": ["bob"]}),
    ("i'm done with the report", {"intent": "complete_task", "task_ref": "the report"}),
    ("show failures of 9 this month", {"intent": "show_history", "task_ref": "9"}),
    (
        "every Friday at 5pm post the weekly digest in #general",
        {"title": "post the weekly digest", "channel": "general"},
    ),
    ("send a digest of #support to #leads every morning", {"channel": "leads"}),
    (
        "change the due date of the report to next Monday",
        {"intent": "update_task", "task_ref": "the report"},
    ),
    ("call it 'Q4 plan'", {"intent": "update_task", "title": "Q4 plan", "task_ref": "this"}),
    ("move 12 to #ops", {"intent": "update_task", "task_ref": "12", "channel": "ops"}),
    (
        "move the deploy reminder over to #release-train",
        {"intent": "update_task", "task_ref": "the deploy reminder", "channel": "release-train"},
    ),
    ("rename 3 to 'post in #general'", {"title": "post in #general", "channel": None}),
    ("nevermind", {"intent": "delete_task", "task_ref": "this"}),
    ("yep done", {"intent": "complete_task", "task_ref": "this"}),
    ("what do I need to do today", {"intent": "list_tasks", "assignees": ["me"]}),
]


@pytest.mark.parametrize(("text", "fields"), FIELDS)
def test_fields(parse: Parse, text: str, fields: dict[str, Any]) -> None:
    got = parse(text).to_json()
    for name, value in fields.items():
        assert got[name] == value, (name, got)


ACTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "every night at 3 run `pg_dump prod > /backups/prod.sql`",
        # A redirect needs a shell: as argv, ">" would reach pg_dump as an argument.
        {"type": "shell", "command": "pg_dump prod > /backups/prod.sql", "shell": True},
    ),
    (
        "every day at 6 run scripts/rotate.sh --keep 7",
        {"type": "shell", "command": "scripts/rotate.sh --keep 7"},
    ),
    (
        "every 5 minutes fetch https://example.com/api/v1/health.",
        {"type": "http", "url": "https://example.com/api/v1/health", "method": "GET"},
    ),
    (
        "every hour POST https://hooks.example.com/beat",
        {"type": "http", "method": "POST", "url": "https://hooks.example.com/beat"},
    ),
    (
        "every Monday at 7 query `SELECT count(*) FROM users` and post to #metrics",
        {"type": "sql", "query": "SELECT count(*) FROM users"},
    ),
    (
        "every weekday at 9 run SELECT id FROM orders WHERE late and post it to #ops",
        {"type": "sql", "query": "SELECT id FROM orders WHERE late"},
    ),
    ("each evening summarize #support", {"type": "ai_prompt", "prompt": "summarize #support"}),
    ("every Friday at 4 post the weekly digest in #eng", {"type": "digest"}),
    # Unquoted command lines: a known program, or what only a command line has.
    ("run echo hi every hour", {"type": "shell", "command": "echo hi"}),
    ("execute ls -la every day at 9", {"type": "shell", "command": "ls -la"}),
    ("every hour run cleanup --all", {"type": "shell", "command": "cleanup --all"}),
    (
        "every night at 1 run du -sh /srv | sort -h",
        {"type": "shell", "command": "du -sh /srv | sort -h", "shell": True},
    ),
    ("run backup.sh every night at 2", {"type": "shell", "command": "backup.sh"}),
]


@pytest.mark.parametrize(("text", "action"), ACTIONS)
def test_actions(parse: Parse, text: str, action: dict[str, Any]) -> None:
    intent = parse(text)
    assert intent.intent == "schedule_job"
    assert intent.action == action


def test_emoji_codes_are_not_words(parse: Parse) -> None:
    # Platform wire formats (Slack's <…|label> links, <!here>, Discord's <@id>) are
    # translated by the adapters; tests/slack and tests/discordbot cover them.
    reminder = parse("remind me to file the report tomorrow :pray:")
    assert reminder.title == "file the report"


def test_event_job_has_no_time_runs(parse: Parse) -> None:
    intent = parse("when a file lands in /data/inbox run `ingest.sh`")
    assert intent.schedule is not None and intent.schedule.kind == "event"
    assert intent.schedule.event == "file:/data/inbox"
    assert intent.next_runs == []
    assert intent.to_json()["schedule"] == {
        "kind": "event",
        "event": "file:/data/inbox",
        "timezone": "America/Chicago",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10 more minutes", "2027-03-01T08:10:00-06:00"),
        ("tomorrow at 9", "2027-03-02T09:00:00-06:00"),
        ("in an hour please", "2027-03-01T09:00:00-06:00"),
        ("snooze until tomorrow morning", "2027-03-02T09:00:00-06:00"),
        ("later", "2027-03-01T09:00:00-06:00"),
        ("give me 10 minutes", "2027-03-01T08:10:00-06:00"),
        ("a couple more hours", "2027-03-01T10:00:00-06:00"),
    ],
)
def test_a_bare_time_reply_snoozes(parse: Parse, text: str, expected: str) -> None:
    intent = parse(text)
    assert intent.intent == "snooze" and intent.task_ref == "this"
    assert [d.isoformat() for d in intent.next_runs] == [expected]


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("after task 12 finishes run `notify.sh`", "task_completed:12"),
        ("when the nightly backup completes, run `verify.sh`", "task_completed:nightly backup"),
        ("if the deploy fails run `rollback.sh`", "task_failed:deploy"),
        ("whenever a webhook hits /hooks/deploy run `deploy.sh`", "webhook:/hooks/deploy"),
    ],
)
def test_event_names(parse: Parse, text: str, event: str) -> None:
    intent = parse(text)
    assert intent.intent == "schedule_job"
    assert intent.schedule is not None and intent.schedule.event == event
    assert intent.title is not None and intent.title.startswith("run")


@pytest.mark.parametrize(
    "text",
    ["run the tests every hour", "remind me to run the tests every hour", "call mom every sunday"],
)
def test_words_that_are_no_command_line_make_no_shell_job(parse: Parse, text: str) -> None:
    assert parse(text).action is None


def test_a_daily_digest_said_with_its_time_recurs(parse: Parse) -> None:
    daily = parse("send me a daily digest at 8")
    assert daily.intent == "schedule_job" and daily.action == {"type": "digest"}
    runs = [d.isoformat() for d in daily.next_runs]
    assert runs[:2] == ["2027-03-02T08:00:00-06:00", "2027-03-03T08:00:00-06:00"]
    once = parse("post the weekly digest tomorrow at 9")
    assert [d.isoformat() for d in once.next_runs] == ["2027-03-02T09:00:00-06:00"]


def test_a_one_off_job(parse: Parse) -> None:
    intent = parse("execute `make deploy` tomorrow at 6")
    assert intent.intent == "schedule_job"
    assert intent.action == {"type": "shell", "command": "make deploy"}
    assert [d.isoformat() for d in intent.next_runs] == ["2027-03-02T18:00:00-06:00"]


def test_snooze_schedule(parse: Parse) -> None:
    intent = parse("snooze 45 mins")
    assert intent.task_ref == "this"
    assert [d.isoformat() for d in intent.next_runs] == ["2027-03-01T08:45:00-06:00"]


def test_confidence_reflects_understanding(parse: Parse) -> None:
    clear = parse("remind me tomorrow at 9 to call the bank")
    vague = parse("remind me to call the bank")
    unknown = parse("purple monkey dishwasher")
    assert clear.confidence > vague.confidence > unknown.confidence
    assert vague.clarification is not None
    assert 0.0 <= unknown.confidence <= 0.5


def test_the_speaker_mentioning_themselves_is_me(parser: object) -> None:
    from core.intents.rules import RuleParser

    from .conftest import at

    intent = RuleParser().parse(
        "remind @alice and @bob at 5 to leave",
        now=at("2027-03-01T08:00", "UTC"),
        tz="UTC",
        user="alice",
    )
    assert intent.assignees == ["me", "bob"]
