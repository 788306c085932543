"""A whole Kairos with Claude configured (the fake Messages API) — and without a key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from waiting import eventually

from core.clock import ManualClock
from core.messages import ReplyKind

from .conftest import KEY, say
from .fake_anthropic import Answer, FakeAnthropic, said

ZONE = "Europe/Berlin"
GERMAN = "Erinnere mich morgen um 15 Uhr, den Bericht abzugeben"


async def test_a_german_message_is_understood_and_confirmed_with_german_lead_words(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.then(
        said(
            intent="create_reminder",
            language="de",
            title="den Bericht abgeben",
            when={"day": "tomorrow", "clock": "15:00"},
        )
    )
    reply = await say(kairos, GERMAN)
    assert reply.kind is ReplyKind.CONFIRMATION, reply.text
    assert reply.text.startswith("Verstanden — ") and "den Bericht abgeben" in reply.text
    task = await kairos.store.get_task(reply.task_id or 0)
    # T0 is Monday 2 March 2026 10:00 in Berlin: tomorrow 15:00 Berlin = 14:00 UTC.
    assert task.next_fire_at == datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
    reading, translating = fake.requests  # the fake has no translation: English words
    assert GERMAN in reading.user_text() and "German (de)" in translating.user_text()
    usage = await kairos.store.llm_usage(since=clock.now() - timedelta(days=1))
    assert [(u.calls, u.workspace_id is not None, u.model) for u in usage] == [
        (2, True, "claude-test")
    ]


async def test_english_the_rules_are_sure_of_never_reaches_claude(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    reply = await say(kairos, "remind me tomorrow at 3pm to submit the report")
    assert reply.text.startswith("Got it — ")
    assert fake.requests == []


async def test_with_claude_down_the_rules_answer_as_before(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), llm_timeout_seconds=2)
    fake.default = Answer(status=529)
    reply = await say(kairos, GERMAN)
    assert reply.text == "Sorry, I didn't understand that. Say 'help' to see what I can do."
    assert fake.requests  # asked (and retried by the SDK), then fell back


async def test_without_a_key_nothing_reaches_claude_and_ai_jobs_are_refused(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos()
    assert kairos.claude is None
    reply = await say(kairos, GERMAN)
    assert reply.text == "Sorry, I didn't understand that. Say 'help' to see what I can do."
    refused = await say(kairos, "every evening summarize #general")
    assert refused.kind is ReplyKind.ERROR and "KAIROS_ANTHROPIC_API_KEY" in refused.text
    assert fake.requests == []


async def test_an_ai_job_runs_with_a_key_and_keeps_prompt_and_answer(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    await say(kairos, "add task renew the certificate in #general due tomorrow at 17")
    got = await say(kairos, "every evening summarize #general")
    assert got.kind is ReplyKind.CONFIRMATION, got.text
    task = await kairos.store.get_task(got.task_id or 0)
    assert task.action == {"type": "ai_prompt", "prompt": "summarize #general"}
    fake.then(Answer(text="Quiet day in #general; the certificate renewal is due tomorrow."))
    assert task.next_fire_at is not None
    clock.set(task.next_fire_at + timedelta(seconds=1))

    async def finished() -> Any:
        rows = await kairos.history.runs(None, task_id=task.id)
        return rows[0].run if rows and rows[0].run.status == "completed" else None

    run = await eventually(finished)
    assert run.output.startswith("Quiet day in #general")
    assert run.result["prompt"] == "summarize #general"
    assert run.result["response"].startswith("Quiet day")
    (request,) = fake.requests
    sent = request.user_text()
    assert sent.startswith("summarize #general") and "renew the certificate" in sent
    assert (
        "## Messages in #general\n(not available: Kairos cannot read channel history on console"
        in sent
    )
    (system,) = request.system_blocks()
    assert system["cache_control"] == {"type": "ephemeral"}
    assert system["text"].startswith("You are Kairos")


async def test_digests_get_an_ai_summary_on_top_and_go_out_plain_without_claude(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), llm_digest_summaries=True)
    await say(kairos, "add task renew the certificate due today at 17")
    got = await say(kairos, "send me a daily digest at 8")
    task = await kairos.store.get_task(got.task_id or 0)
    fake.then(Answer(text="Renew the certificate today."))
    fake.default = Answer(status=529)  # the second day Claude is down
    for day in range(2):
        if day == 0:  # 08:00 Berlin on Tuesday
            clock.set(datetime(2026, 3, 3, 7, 0, 1, tzinfo=UTC))
        else:  # and once more by hand, with Claude down
            await kairos.scheduler.run_now(task.id)

        async def completed(count: int = day + 1) -> Any:
            rows = await kairos.history.runs(None, task_id=task.id, statuses=("completed",))
            return rows if len(rows) == count else None

        rows = await eventually(completed)
    newest, first = rows[0].run, rows[1].run
    assert first.output.startswith("Summary (AI): Renew the certificate today.\n\nDigest")
    assert newest.output.startswith("Digest") and newest.result["summary_error"]
    assert "renew the certificate" in newest.output


async def test_a_report_gets_claudes_narrative_on_top_of_its_figures(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    await say(kairos, "add task 'write the notes' due tomorrow")
    fake.then(Answer(text="A quiet week: nothing was finished late.", output_tokens=9))
    reply = await say(kairos, "how did the team do last week?")
    assert reply.text.index("A quiet week: nothing was finished late.") < reply.text.index(
        "done"
    ), reply.text
    (request,) = fake.requests
    assert "report" in request.user_text().lower() or "done" in request.user_text()
    fake.default = Answer(status=529)  # Claude down: the figures still go out, alone
    again = await say(kairos, "how did the team do last week?")
    assert "A quiet week" not in again.text and "done" in again.text, again.text
