"""``ClaudeParser`` and ``ParserChain`` against the fake Messages API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.errors import ModelUnavailable
from core.intents.chain import ParserChain
from core.intents.model import IntentKind
from core.intents.rules import RuleParser
from core.ports import ParseContext
from core.store import SqlStore
from integrations.llm.client import ClaudeClient
from integrations.llm.parser import ClaudeParser

from .conftest import KEY
from .fake_anthropic import Answer, FakeAnthropic, said

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=BERLIN)  # a Thursday
CTX = ParseContext(now=NOW, tz="Europe/Berlin")
GERMAN = "Erinnere mich nächsten Freitag um 15 Uhr, den Bericht abzugeben"
GERMAN_SAID = said(
    intent="create_reminder",
    language="de",
    title="den Bericht abgeben",
    when={"weekday": "friday", "next_week": True, "clock": "15:00"},
    people=["me"],
    confidence=0.9,
)


def chain(client: ClaudeClient, **kw: object) -> ParserChain:
    return ParserChain(rules=RuleParser(), model=ClaudeParser(client=client), **kw)  # type: ignore[arg-type]


async def test_claude_reports_the_words_and_kairos_computes_the_instants(
    fake: FakeAnthropic, claude: ClaudeClient
) -> None:
    fake.then(GERMAN_SAID)
    reading = await ClaudeParser(client=claude).read(GERMAN, CTX)
    assert reading.parser == "claude" and reading.language == "de"
    intent = reading.intent
    assert intent.intent is IntentKind.CREATE_REMINDER
    assert intent.title == "den Bericht abgeben"
    assert intent.next_runs == [datetime(2026, 12, 11, 15, 0, tzinfo=BERLIN)]
    assert intent.assignees == ["me"]
    sent = fake.requests[0]
    assert sent.body["model"] == "claude-test"
    assert GERMAN in sent.user_text() and "2026-12-03T10:00" in sent.user_text()
    credentials = sent.headers.get("x-api-key", "") + sent.headers.get("authorization", "")
    assert KEY in credentials
    assert [tool["name"] for tool in sent.body["tools"]] == ["Said"]


async def test_the_system_prompt_is_sent_as_a_cacheable_block(
    fake: FakeAnthropic, claude: ClaudeClient, store: SqlStore, clock: object
) -> None:
    fake.then(GERMAN_SAID, GERMAN_SAID)
    parser = ClaudeParser(client=claude)
    await parser.read(GERMAN, CTX)
    fake.then()
    await parser.read(GERMAN, CTX)
    for request in fake.requests:
        (block,) = request.system_blocks()
        assert block["cache_control"] == {"type": "ephemeral"}
        assert block["text"].startswith("You read chat messages sent to Kairos")
    # The cached prefix (tools + system) is byte-identical across calls.
    first, second = fake.requests
    assert first.body["system"] == second.body["system"]
    assert first.body["tools"] == second.body["tools"]


async def test_invalid_output_goes_back_to_the_model_then_succeeds(
    fake: FakeAnthropic, claude: ClaudeClient, store: SqlStore
) -> None:
    bad = said(intent="create_reminder", title="call Bo", when={"clock": "3pm"})
    good = said(intent="create_reminder", title="call Bo", when={"clock": "15:00"})
    fake.then(bad, good)
    reading = await ClaudeParser(client=claude).read("ruf Bo um 3 an", CTX)
    assert reading.intent.next_runs == [datetime(2026, 12, 3, 15, 0, tzinfo=BERLIN)]
    assert len(fake.requests) == 2
    # The retry carries the validation error back to the model.
    retry = str(fake.requests[1].body["messages"])
    assert "HH:MM" in retry
    rows = await store.llm_usage(since=datetime(2026, 1, 1, tzinfo=BERLIN))
    assert sum(row.calls for row in rows) == 2


async def test_retries_on_invalid_output_are_bounded(
    fake: FakeAnthropic, make_claude: Callable[..., ClaudeClient]
) -> None:
    client = make_claude(validation_retries=2)
    fake.default = said(intent="create_reminder", when={"clock": "25:99"})
    with pytest.raises(ModelUnavailable):
        await ClaudeParser(client=client).read("call Bo at quarter past never", CTX)
    assert len(fake.requests) == 1 + 2  # the first answer and two corrections


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Answer(status=429), id="429"),
        pytest.param(Answer(status=529), id="529-overloaded"),
        pytest.param(Answer(status=500), id="500"),
        pytest.param(Answer(text="I think you mean Friday."), id="text-not-tool"),
    ],
)
async def test_every_failure_falls_back_to_the_rules_silently(
    fake: FakeAnthropic, make_claude: Callable[..., ClaudeClient], failure: Answer
) -> None:
    client = make_claude(max_retries=1, validation_retries=1)
    fake.default = failure
    text = "remind me at 5 to call Bo; also water the plants"  # compound: goes to Claude
    reading = await chain(client).read(text, CTX)
    assert reading.parser == "rules"
    assert reading.intent == RuleParser().parse(text, now=NOW, tz="Europe/Berlin")
    assert fake.requests, "Claude was asked"


async def test_a_slow_answer_falls_back_at_the_timeout(
    fake: FakeAnthropic, make_claude: Callable[..., ClaudeClient]
) -> None:
    client = make_claude(max_retries=0)
    fake.then(Answer(delay=3, tool=GERMAN_SAID.tool))
    reading = await chain(client, timeout_seconds=0.3).read(GERMAN, CTX)
    assert reading.parser == "rules"
    assert reading.intent.intent is IntentKind.UNKNOWN  # what the rules make of German


async def test_routing_sure_rules_never_ask_claude(
    fake: FakeAnthropic, claude: ClaudeClient
) -> None:
    reading = await chain(claude).read("remind me tomorrow at 9 to call Bo", CTX)
    assert reading.parser == "rules" and reading.intent.intent is IntentKind.CREATE_REMINDER
    assert fake.requests == []


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(GERMAN, id="unknown-to-rules"),
        pytest.param("remind me at 5 to call Bo and then book the room", id="compound"),
        pytest.param("remind me " + "really " * 30 + "soon to call Bo", id="long"),
    ],
)
async def test_routing_unsure_unknown_long_or_compound_ask_claude(
    fake: FakeAnthropic, claude: ClaudeClient, text: str
) -> None:
    fake.then(GERMAN_SAID)
    reading = await chain(claude).read(text, CTX)
    assert reading.parser == "claude" and len(fake.requests) == 1


#: German with a few English words: the rules make a "sure" task of it (" due ").
MIXED = "Erinnere mich heute um 8 Uhr, Open the Due list"


async def test_a_message_in_another_language_asks_claude_however_sure_the_rules_are(
    fake: FakeAnthropic, claude: ClaudeClient
) -> None:
    rules = RuleParser().parse(MIXED, now=NOW, tz="Europe/Berlin")
    assert rules.intent is IntentKind.CREATE_TASK and rules.confidence >= 0.6  # "sure"
    fake.then(said(intent="create_reminder", language="de", title="Open the Due list",
                   when={"day": "today", "clock": "08:00"}))  # fmt: skip
    reading = await chain(claude).read(MIXED, CTX)
    assert reading.parser == "claude" and reading.language == "de"
    assert len(fake.requests) == 1
    # English with a German title, quoted: the person's own words are English.
    english = "create task 'Bericht für Freitag abgeben' for @bob due tomorrow"
    assert (await chain(claude).read(english, CTX)).parser == "rules"
    assert len(fake.requests) == 1


async def test_when_claude_fails_on_another_language_the_rules_reading_names_none(
    fake: FakeAnthropic, make_claude: Callable[..., ClaudeClient]
) -> None:
    fake.default = Answer(status=500)
    reading = await chain(make_claude(max_retries=0)).read(MIXED, CTX)
    assert reading.parser == "rules" and reading.intent.intent is IntentKind.CREATE_TASK
    assert reading.language is None  # not "en": the speaker was not writing English
    assert reading.intent.confidence < 0.6  # it read English words only: to be confirmed
    sure = await chain(make_claude(max_retries=0)).read("remind me tomorrow at 9 to call Bo", CTX)
    assert sure.language == "en" and len(fake.requests) == 1


async def test_rules_mode_never_asks_and_claude_mode_always_asks(
    fake: FakeAnthropic, claude: ClaudeClient
) -> None:
    text = "remind me tomorrow at 9 to call Bo"
    assert (await chain(claude, mode="rules").read(GERMAN, CTX)).parser == "rules"
    fake.then(
        said(intent="create_reminder", title="call Bo", when={"day": "tomorrow", "clock": "09:00"})
    )
    reading = await chain(claude, mode="claude").read(text, CTX)
    assert reading.parser == "claude" and len(fake.requests) == 1
    assert reading.intent.next_runs == [datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)]


async def test_claude_saying_unknown_keeps_the_rules_reading(
    fake: FakeAnthropic, claude: ClaudeClient
) -> None:
    text = "remind me at 5 to call Bo; thanks"
    fake.then(said(intent="unknown"))
    reading = await chain(claude).read(text, CTX)
    assert reading.parser == "rules" and reading.intent.intent is IntentKind.CREATE_REMINDER
