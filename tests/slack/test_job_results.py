"""A shell job in Slack end to end: an admin creates it, a member is refused, its result is
posted in the task's thread with the full log uploaded as a file (files_upload_v2), and
"Show log" answers."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from waiting import eventually

from bot.app import Kairos
from bot.settings import Settings
from core.enums import Platform
from core.intents.rules import RuleParser

from .test_conversation_e2e import Chat


@pytest.fixture
def jobs_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="kairos-slack-jobs-"))
    os.chmod(path, 0o755)  # jobs run as nobody when the tests run as root
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def chat(
    fake: Any, make_surface: Any, slack_settings: Settings, clock: Any, jobs_dir: Path
) -> AsyncIterator[Chat]:
    settings = slack_settings.model_copy(update={"shell_allow": "backup.sh", "data_dir": jobs_dir})
    app = await Kairos.open(settings, clock=clock)
    surface, kairos = await make_surface(
        app.conversation, store=app.store, tasks=app.tasks, parser=RuleParser(), runs=app.runs
    )
    app.add_chat(Platform.SLACK, surface.adapter)
    await app.start()
    chat = Chat(kairos, fake, app.store, clock)
    chat.app = app  # type: ignore[attr-defined]
    try:
        yield chat
    finally:
        await app.close()


async def test_a_job_result_lands_in_its_thread_with_the_log_attached(
    chat: Chat, fake: Any
) -> None:
    fake.admins.add("U0001")
    await chat.command("every night at 2 run backup.sh", user="U0002")
    refusal = fake.responses[-1]
    assert "Only workspace admins may create shell jobs" in json.dumps(refusal)
    assert await chat.tasks() == []

    await chat.command("every night at 2 run backup.sh", user="U0001")
    [task] = await eventually(chat.tasks)
    task = await chat.carded(task.id)
    app: Kairos = chat.app  # type: ignore[attr-defined]
    script = app.settings.execution_policy().workdir(task.workspace_id) / "backup.sh"
    script.write_text("#!/bin/sh\nseq 1 3000\necho 'backup ok'\n")
    script.chmod(0o755)

    chat.clock.set(task.next_fire_at + timedelta(seconds=1))
    posts = await eventually(
        lambda: [c for c in fake.of("chat.postMessage") if "completed in" in c.body["text"]],
        within=20,
    )
    post = posts[0]
    assert post.body["channel"] == "C0001" and post.body["thread_ts"] == task.thread_ref
    assert "backup ok" in post.body["text"] and len(post.body["text"]) < 3000
    actions = [
        e["action_id"] for b in post.blocks() if b["type"] == "actions" for e in b["elements"]
    ]
    assert [a.split("#")[0] for a in actions] == ["run.log", "task.run"]
    upload = (await eventually(lambda: fake.of("files.completeUploadExternal")))[0]
    assert upload.body["channel_id"] == "C0001" and upload.body["thread_ts"] == task.thread_ref
    [content] = fake.uploads.values()
    assert content.decode().startswith("1\n2\n3\n") and content.decode().endswith("backup ok\n")

    [run] = await app.runs.runs_for(task.id)
    before = len(fake.responses)
    await chat.press("run.log", str(run.id), message_ts=str(post.body.get("ts", "1")))
    shown = await eventually(lambda: fake.responses[before:])
    assert "backup ok" in json.dumps(shown)


async def test_a_daily_digest_is_posted_as_block_kit(chat: Chat, fake: Any) -> None:
    await chat.command("add task renew the certificate due today at 17", user="U0001")
    await chat.command("send me a daily digest at 8", user="U0001")
    app: Kairos = chat.app  # type: ignore[attr-defined]
    [digest] = await eventually(lambda: _digests(app), within=10)
    assert digest.schedule is not None and digest.schedule["rrule"].startswith(
        "FREQ=DAILY;BYHOUR=8"
    )
    chat.clock.set(digest.next_fire_at + timedelta(seconds=1))
    posts = await eventually(
        lambda: [c for c in fake.of("chat.postMessage") if c.body["text"].startswith("Digest")],
        within=20,
    )
    blocks = posts[0].blocks()
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"].startswith("Digest —")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert any(s.startswith("*Overdue (1)*") and "renew the certificate" in s for s in sections), (
        posts[0].body["text"]
    )
    assert blocks[-1]["type"] == "actions"  # Show log, Run again
    # The plain text still carries everything (notifications, clients without blocks).
    assert "renew the certificate" in posts[0].body["text"]


async def _digests(app: Kairos) -> list[Any]:
    tasks = await app.tasks.query(workspace_id=1)
    return [t for t in tasks if (t.action or {}).get("type") == "digest"]


async def test_a_report_asked_in_slack_comes_as_block_kit_with_its_charts(
    chat: Chat, fake: Any
) -> None:
    await chat.command("add task write the notes due tomorrow", user="U0001")
    await chat.dm("how did the team do last week?")
    posts = await eventually(
        lambda: [c for c in fake.of("chat.postMessage") if c.body["text"].startswith("Report for")],
        within=20,
    )
    blocks = posts[0].blocks()
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"].startswith("Report for")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections and "Done:" in sections[0], sections
    # The charts go with it, as one PNG page uploaded with files_upload_v2.
    [png] = await eventually(lambda: list(fake.uploads.values()), within=20)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
