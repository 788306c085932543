"""The conversation end to end: real parser, service, store, engine and workers.

The clock starts on Monday 2 March 2026, 10:00 in Berlin (09:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from waiting import eventually

from core.enums import Platform, RunStatus, TaskKind, TaskStatus
from core.messages import ReplyKind
from core.store import TaskQuery

from .conftest import Chat


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_reminder_is_confirmed_in_the_speakers_zone(chat: Chat) -> None:
    reply = await chat.say_one("remind me to call the bank tomorrow at 3pm")
    assert reply.kind is ReplyKind.CONFIRMATION
    assert reply.text == "Got it — #1 'call the bank', tomorrow Tue 03 Mar 15:00 CET, for @ana"
    task = await chat.kairos.store.get_task(1)
    assert task.kind == TaskKind.REMINDER
    assert task.next_fire_at == utc(2026, 3, 3, 14)
    assert task.assignees == ["ana"]


async def test_recurring_reminder_shows_the_next_runs(chat: Chat) -> None:
    reply = await chat.say_one("remind #eng every weekday at 9:30 to post updates")
    assert "#1 'post updates'" in reply.text
    assert "next tomorrow Tue 03 Mar 09:30 CET, then Wed 04 Mar 09:30 CET, Thu 05 Mar" in reply.text
    assert "in #eng" in reply.text


async def test_task_with_assignee_due_priority_and_prerequisite(chat: Chat) -> None:
    await chat.say_one("add task 'QA signoff' due Thursday")
    reply = await chat.say_one(
        "add task 'deploy v2' for @bob due Friday after 'QA signoff' high priority"
    )
    assert reply.kind is ReplyKind.CONFIRMATION, reply.text
    task = await chat.kairos.store.get_task(2)
    assert (task.title, task.assignees, task.priority) == ("deploy v2", ["bob"], "high")
    assert task.due == utc(2026, 3, 6, 16)  # Friday 17:00 CET, the deadline convention
    assert task.depends_on == [1]


async def test_unknown_prerequisite_is_refused_and_nothing_is_stored(chat: Chat) -> None:
    reply = await chat.say_one("add task 'deploy v2' due Friday after 'load test'")
    assert reply.kind is ReplyKind.ERROR
    assert reply.text.startswith("I can't find a task called 'load test'.")
    assert await chat.kairos.store.find_task(1) is None


async def test_list_and_overdue(chat: Chat) -> None:
    await chat.say_one("add task write the release notes due tomorrow")
    await chat.say_one("add task renew the certificate due today at 11am")
    listed = await chat.say_one("list")
    assert listed.kind is ReplyKind.TASK_LIST
    assert [line.title for line in listed.tasks] == [
        "renew the certificate",
        "write the release notes",
    ]
    chat.clock.advance(timedelta(hours=3))
    overdue = await chat.say_one("what's overdue?")
    assert [(line.title, line.overdue) for line in overdue.tasks] == [
        ("renew the certificate", True)
    ]


async def test_it_means_the_last_task_discussed(chat: Chat) -> None:
    await chat.say_one("add task book the venue due Friday")
    moved = await chat.say("push it to next week")
    if moved[0].kind is ReplyKind.QUESTION:  # a cautious reading asks first
        moved = await chat.say("yes")
    assert moved[0].kind is ReplyKind.CONFIRMATION, moved[0].text
    assert (await chat.kairos.store.get_task(1)).due == utc(2026, 3, 9, 16)
    done = await chat.say_one("done")
    assert done.text == "Done — #1 'book the venue'. Nice work."
    assert (await chat.kairos.store.get_task(1)).status == TaskStatus.DONE


async def test_a_thread_reply_acts_on_the_threads_task(chat: Chat) -> None:
    await chat.say_one("add task fix the login bug")
    await chat.say_one("add task write the changelog")
    await chat.kairos.store.update_task(1, {"channel_ref": "C1", "thread_ref": "1700.01"})
    reply = await chat.say_one("done", channel_ref="C1", thread_ref="1700.01", is_direct=False)
    assert reply.text == "Done — #1 'fix the login bug'. Nice work."
    assert (await chat.kairos.store.get_task(2)).status == TaskStatus.OPEN


async def test_names_numbers_and_bad_references(chat: Chat) -> None:
    await chat.say_one("add task prepare the launch checklist")
    urgent = await chat.say_one("make the launch checklist urgent")
    assert "urgent priority" in urgent.text
    missing = await chat.say_one("mark 42 as done")
    assert missing.kind is ReplyKind.ERROR
    assert missing.text == "Task #42 does not exist. List your tasks to see their numbers."
    nothing = await chat.say_one("done", user="zoe")  # zoe has discussed no task
    assert nothing.text.startswith("I'm not sure which task you mean")


async def test_reminder_fires_on_the_console_and_snoozes(chat: Chat) -> None:
    await chat.say_one("remind me in 2 hours to stretch")
    chat.clock.advance(timedelta(hours=2))
    await eventually(lambda: _printed(chat, "Reminder: stretch", 1))
    snoozed = await chat.say_one("snooze 1h")
    assert snoozed.text == "Snoozed #1 'stretch' until today Mon 02 Mar 13:00 CET."
    chat.clock.advance(timedelta(hours=1))
    await eventually(lambda: _printed(chat, "Reminder: stretch", 2))

    async def both_completed() -> list[str] | None:
        statuses = sorted(r.status for r in await chat.kairos.runs.runs_for(1))
        return statuses if statuses == [RunStatus.COMPLETED] * 2 else None

    await eventually(both_completed)


async def test_delete_hides_the_task_and_it_can_be_restored(chat: Chat) -> None:
    await chat.say_one("remind me every day at 8 to drink water")
    deleted = await chat.say_one("delete task 1")
    assert deleted.text == "Deleted #1 'drink water'. Say 'restore #1' to undo."
    task = await chat.kairos.store.get_task(1)
    assert (task.status, task.next_fire_at) == (TaskStatus.DELETED, None)
    assert (await chat.say_one("list")).tasks == ()


async def test_low_confidence_asks_back_and_acts_on_yes(chat: Chat) -> None:
    chat.kairos.conversation._threshold = 1.0  # every reading is now "unsure"
    question = await chat.say_one("remind me to call mom tomorrow at 6pm")
    assert question.kind is ReplyKind.QUESTION
    assert question.text.startswith("Did you mean: create reminder 'call mom'")
    assert await chat.kairos.store.find_task(1) is None
    confirmed = await chat.say_one("yes")
    assert confirmed.kind is ReplyKind.CONFIRMATION
    assert (await chat.kairos.store.get_task(1)).next_fire_at == utc(2026, 3, 3, 17)


async def test_gibberish_gets_help_not_a_crash(chat: Chat) -> None:
    reply = await chat.say_one("qwzx blorp 🦄")
    assert reply.text == "Sorry, I didn't understand that. Say 'help' to see what I can do."
    assert (await chat.say_one("help")).kind is ReplyKind.HELP


async def test_workspaces_never_see_each_others_tasks(chat: Chat) -> None:
    await chat.say_one("add task secret plan")
    other = await chat.kairos.store.ensure_workspace(Platform.SLACK, "T-OTHER")
    assert other.id is not None
    assert await chat.kairos.tasks.query(TaskQuery(), workspace_id=other.id) == []


async def test_buttons_complete_and_snooze(chat: Chat) -> None:
    from bot.console import to_inbound

    await chat.say_one("remind me every day at 9 to water the plants")
    inbound = to_inbound("", user="ana")
    snoozed = await chat.kairos.conversation.press(inbound, action="task.snooze", value="1:60")
    assert snoozed[0].text == "Snoozed #1 'water the plants' until today Mon 02 Mar 11:00 CET."
    done = await chat.kairos.conversation.press(inbound, action="task.done", value="1")
    # A repeating reminder's Done is for this time: the series goes on.
    assert done[0].text.startswith("Done for this time — #1 'water the plants' repeats, next")
    assert (await chat.kairos.store.get_task(1)).status == "open"


async def test_snoozing_a_reminder_before_it_fired_never_doubles_it(chat: Chat) -> None:
    from bot.console import to_inbound

    await chat.say_one("remind me tomorrow at 8 to water the plants")
    inbound = to_inbound("", user="ana")
    early = await chat.kairos.conversation.press(inbound, action="task.snooze", value="1:60")
    assert "has not fired yet" in early[0].text
    later = await chat.kairos.conversation.press(inbound, action="task.snooze", value="1:tomorrow")
    assert "had not fired yet: moved it to tomorrow Tue 03 Mar 09:00" in later[0].text
    assert await chat.kairos.runs.runs_for(1) == []


async def _printed(chat: Chat, text: str, times: int) -> bool | None:
    return True if chat.printed().count(text) >= times else None


async def test_an_answer_completes_the_question_kairos_asked(chat: Chat) -> None:
    question = await chat.say_one("remind me to renew my passport")
    assert question.kind is ReplyKind.QUESTION
    assert question.text.startswith("When should I remind you")
    answer = await chat.say_one("on Friday at 10am")
    assert answer.kind is ReplyKind.CONFIRMATION, answer.text
    task = await chat.kairos.store.get_task(1)
    assert task.title == "renew my passport"
    assert task.next_fire_at == utc(2026, 3, 6, 9)  # Friday 10:00 CET
    # The question is answered once: the next message is read on its own.
    assert (await chat.say_one("list")).kind is ReplyKind.TASK_LIST


async def test_an_answer_can_replace_the_doubtful_word(chat: Chat) -> None:
    await chat.say_one("add task book the venue due Friday")
    chat.clock.set(utc(2026, 3, 5, 9))  # a Thursday: "Thursday" is now doubtful
    question = await chat.say_one("move 1 to Thursday")  # "it" expired: days went by
    assert question.kind is ReplyKind.QUESTION, question.text
    moved = await chat.say_one("next Thursday")
    assert moved.kind is ReplyKind.CONFIRMATION, moved.text
    assert (await chat.kairos.store.get_task(1)).due == utc(2026, 3, 12, 16)


async def test_a_bug_costs_one_answer_not_the_conversation(chat: Chat, monkeypatch, caplog) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(chat.kairos.tasks, "create", broken)
    reply = await chat.say_one("add task write the minutes")
    assert reply.kind is ReplyKind.ERROR
    assert "secret internal detail" not in reply.text
    assert reply.text.startswith("Sorry, something went wrong on my side")
    assert "secret internal detail" in caplog.text  # the details are in the log
    monkeypatch.undo()
    assert (await chat.say_one("add task write the minutes")).kind is ReplyKind.CONFIRMATION


async def test_a_bad_button_value_is_refused_clearly(chat: Chat) -> None:
    from bot.console import to_inbound

    inbound = to_inbound("", user="ana")
    replies = await chat.kairos.conversation.press(inbound, action="task.done", value="abc")
    assert replies[0].text == "The button value 'abc' is not valid."


async def test_what_was_said_earlier_counts_from_when_it_was_said(chat: Chat) -> None:
    """A command read late (taken over after a crash) keeps its "in 2 hours" from when
    the person said it; a time that passed meanwhile is not questioned as the past."""
    said = chat.clock.now()
    chat.clock.advance(timedelta(minutes=10))
    reply = await chat.say_one("remind me in 2 hours to stretch", sent_at=said)
    assert reply.kind is ReplyKind.CONFIRMATION, reply.text
    task = await chat.kairos.store.get_task(reply.task_id or 0)
    assert task.next_fire_at == said + timedelta(hours=2)
    early = await chat.say_one("remind me in 5 minutes to breathe", sent_at=said)
    assert early.kind is ReplyKind.CONFIRMATION, early.text
    chat.clock.advance(timedelta(seconds=1))
    await eventually(lambda: _printed(chat, "Reminder: breathe", 1))  # at once, late
    never_future = await chat.say_one(
        "remind me in 1 hour to drink", sent_at=chat.clock.now() + timedelta(hours=3)
    )
    drink = await chat.kairos.store.get_task(never_future.task_id or 0)
    assert drink.next_fire_at == chat.clock.now() + timedelta(hours=1)
