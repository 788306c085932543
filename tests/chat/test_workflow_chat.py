"""Workflows in chat: templates, show (tree + PNG), "when X is done", "then", reruns."""

from __future__ import annotations

import pytest
from waiting import eventually

from bot.conversation.workflows import read_request
from core.messages import ReplyKind

from .conftest import Chat


async def test_start_a_release_workflow_then_show_it(chat: Chat) -> None:
    reply = await chat.say_one("start a release workflow for v2.3")
    assert reply.text.startswith("Created. Workflow 'release v2.3' (not run yet)\n"), reply.text
    assert "├→ v2.3: test · not reached" in reply.text
    shown = await chat.say_one("show the release workflow")
    assert shown.text.splitlines()[0] == "Workflow 'release v2.3' (not run yet)"
    assert shown.attachment is not None and shown.attachment.data is not None
    assert shown.attachment.data.startswith(b"\x89PNG")
    assert shown.attachment.filename == "release-v2-3.png"


async def test_when_x_is_done_do_y_links_existing_tasks(chat: Chat) -> None:
    await chat.say_one("add task 'backup' due tomorrow")
    await chat.say_one("add task 'report' due tomorrow")
    reply = await chat.say_one("after the backup succeeds run the report")
    assert reply.text.startswith("OK: when 'backup' is done, #2 runs after it"), reply.text
    assert (await chat.kairos.store.get_task(2)).depends_on == [1]
    # completing a task whose prerequisite is open asks first
    asked = await chat.say_one("done report")
    assert asked.kind is ReplyKind.QUESTION and "waits for #1 'backup'" in asked.text
    await chat.say_one("no")


async def test_if_the_build_fails_tell_eng(chat: Chat) -> None:
    await chat.say_one("add task 'build' due tomorrow")
    reply = await chat.say_one("if the build fails, tell #eng")
    assert reply.text.startswith("OK: when 'build' fails, #2 runs after it"), reply.text
    told = await chat.kairos.store.get_task(2)
    assert told.title == "'build' failed" and told.channel_ref == "eng"
    assert told.depends_on == [1]


async def test_a_chain_with_then_gets_one_schedule_and_edges(chat: Chat) -> None:
    reply = await chat.say_one("every night at 1 run the export, then the report")
    assert reply.text.startswith("OK: #1 → #2, each after the one before"), reply.text
    export, report = await chat.kairos.store.get_task(1), await chat.kairos.store.get_task(2)
    assert export.title == "export" and export.schedule is not None
    assert report.title == "report" and report.schedule is None
    assert report.depends_on == [1]


async def test_a_person_finishing_a_step_releases_the_next(chat: Chat) -> None:
    await chat.say_one("start a feature workflow for login")
    started = await chat.say_one("run the feature login workflow")
    assert started.text.startswith("Started run 1 of workflow 'feature login'")
    await chat.say_one("done login: code")
    shown = await chat.say_one("show the feature login workflow")
    assert "login: code · completed" in shown.text, shown.text
    assert "└→ login: unit tests · pending" in shown.text


def test_workflow_phrasings_are_read_by_grammar_not_by_sentence() -> None:
    cases = {
        "show the release workflow": ("show", "release"),
        "draw me workflow release v2.3": ("show", "release v2.3"),
        "kick off a bug fix workflow for the login crash": ("template", "bug fix"),
        "rerun the deploy and everything after it": ("rerun", "deploy"),
        "retry build and what follows": ("rerun", "build"),
        "run the deploy anyway": ("anyway", "deploy"),
        "clear the failure of the build": ("clear", "build"),
        "clear the build failure": ("clear", "build"),
        "run the release v2.3 workflow": ("start", "release v2.3"),
        "list workflows": ("list", None),
        "show the workflow": ("list", None),  # which one? the list says
    }
    for text, (kind, name) in cases.items():
        request = read_request(text)
        assert request is not None and (request.kind, request.name) == (kind, name), text
    assert read_request("show my tasks") is None
    assert read_request("rerun the deploy") is None  # an ordinary run: the parser's


async def test_rerun_the_backup_and_everything_after_it(chat: Chat) -> None:
    await chat.say_one("add task 'backup' due tomorrow")
    await chat.say_one("add task 'report' due tomorrow")
    await chat.say_one("after the backup succeeds run the report")
    await chat.say_one("run the backup workflow")
    await chat.say_one("done backup")
    await chat.say_one("done report")
    shown = await chat.say_one("show the backup workflow")
    assert shown.text.splitlines()[0] == "Workflow 'backup' · run 1 succeeded", shown.text
    reply = await chat.say_one("rerun the backup and everything after it")
    assert reply.text == "Rerunning 'backup' and everything after it (workflow run 1).", reply.text
    again = await chat.say_one("show the backup workflow")
    assert again.text.splitlines() == [
        "Workflow 'backup' · run 1 running",
        "backup · pending",
        "└→ report · completed",
    ], again.text


async def test_the_owner_is_told_once_when_the_workflow_finishes(chat: Chat) -> None:
    await chat.say_one("add task 'backup' due tomorrow")
    await chat.say_one("add task 'report' due tomorrow")
    await chat.say_one("after the backup succeeds run the report")
    await chat.say_one("run the backup workflow")
    await chat.say_one("done backup")
    await chat.say_one("done report")
    notice = "🏁 Workflow 'backup' finished: every step is done (run 1)."
    await eventually(lambda: notice in chat.printed())
    assert chat.printed().count(notice) == 1


@pytest.mark.parametrize("name", ["deploy", "post", "fetch", "send", "run"])
async def test_after_x_succeeds_whatever_word_names_x(chat: Chat, name: str) -> None:
    # a task may be named with a word the parser elsewhere reads as a verb
    await chat.say_one(f"add task '{name}' due tomorrow")
    await chat.say_one("add task 'report' due tomorrow")
    reply = await chat.say_one(f"after the {name} succeeds run the report")
    assert reply.text.startswith(f"OK: when '{name}' is done, #2 runs after it"), reply.text
    assert (await chat.kairos.store.get_task(2)).depends_on == [1]
    failed = await chat.say_one(f"if the {name} fails, tell #eng")
    assert failed.text.startswith(f"OK: when '{name}' fails, #3 runs after it"), failed.text
