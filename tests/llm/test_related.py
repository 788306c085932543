"""Context questions: search over tasks, comments and runs; re-ranked by Claude if configured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from bot.conversation.related import topic_of

from .conftest import KEY, say
from .fake_anthropic import Answer, FakeAnthropic

QUESTION = "what did we decide about the pricing page?"


def test_context_questions_are_recognised() -> None:
    assert topic_of("what's related to the deploy?") == "the deploy"
    assert topic_of(QUESTION) == "the pricing page"
    assert topic_of("remind me to decide about pricing") is None


async def _tasks(kairos: Any) -> None:
    await say(kairos, "add task update the pricing page")
    await say(kairos, "add task plan the deploy of the pricing service")
    await say(kairos, "add task water the plants")


async def test_without_claude_the_findings_are_listed_with_references(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos()
    await _tasks(kairos)
    reply = await say(kairos, QUESTION)
    assert reply.text.splitlines() == [
        "About 'the pricing page':",
        "  • #1 update the pricing page",
    ]
    deploy = await say(kairos, "what's related to the deploy?")
    assert "#2 plan the deploy of the pricing service" in deploy.text
    nothing = await say(kairos, "what's related to the budget?")
    assert nothing.text == "I found nothing about 'the budget' in tasks, comments or runs."
    assert fake.requests == []


async def test_full_text_finds_word_forms_and_comments_best_first(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos()
    await _tasks(kairos)
    await say(kairos, "add a comment to #3: agreed to ask the vendor about pricing tiers")
    forms = await say(kairos, "what's related to deploying?")  # the stem of "deploy"
    assert forms.text.splitlines()[1:] == ["  • #2 plan the deploy of the pricing service"]
    tiers = await say(kairos, "what did we decide about pricing tiers?")
    assert tiers.text.splitlines()[1:] == ["  • #3 water the plants"]  # its comment says so
    # No task holds every word: a word alone finds what holds it.
    either = await say(kairos, "anything about vendor pages?")
    assert either.text.splitlines()[1:] == ["  • #3 water the plants"]
    # Ranked: tasks with the word in their title before the one with it in a comment.
    ranked = await say(kairos, "what's related to pricing?")
    lines = ranked.text.splitlines()[1:]
    assert len(lines) == 3 and lines[-1] == "  • #3 water the plants"
    assert fake.requests == []


async def test_claude_reranks_and_answers_citing_the_findings(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    await _tasks(kairos)
    fake.then(
        Answer(tool={"name": "Ranked", "input": {"order": [1, 0], "answer": "See #2 first."}})
    )
    reply = await say(kairos, "what's related to pricing?")
    lines = reply.text.splitlines()
    assert lines[0] == "See #2 first."
    assert lines[1:] == [
        "  • #2 plan the deploy of the pricing service",
        "  • #1 update the pricing page",
    ]
    sent = fake.requests[-1].user_text()
    assert "0. #1 update the pricing page" in sent and "1. #2 plan the deploy" in sent
    fake.default = Answer(status=529)
    plain = await say(kairos, "what's related to pricing?")
    assert plain.text.splitlines()[0] == "About 'pricing':"
