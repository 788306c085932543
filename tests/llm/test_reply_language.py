"""Replies follow the speaker's language: Claude translates Kairos's English reply, or English."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from bot.conversation.labels import CATALOG
from bot.conversation.languages import kept_intact, protected
from core.messages import ReplyKind

from .conftest import KEY, say
from .fake_anthropic import Answer, FakeAnthropic, Request, said

GERMAN = "Erinnere mich morgen um 15 Uhr, den Bericht abzugeben"
READ = said(
    intent="create_reminder",
    language="de",
    title="den Bericht abgeben",
    when={"day": "tomorrow", "clock": "15:00"},
)
#: The fake's German: enough words to tell a translated reply from an English one.
WORDS = {
    "tomorrow": "morgen",
    "Tue": "Di",
    "Mar": "März",
    "Done": "Erledigt",
    "Snooze": "Später",
    "Sorry": "Entschuldige",
    "Reminder": "Erinnerung",
    "Nice work": "Gut gemacht",
    "Digest": "Übersicht",
    "Workflow": "Arbeitsablauf",
    "finished": "beendet",
    "Next up": "Als Nächstes",
}


def texts_of(request: Request) -> list[str]:
    """The texts a translation request sent (the JSON list after the first line)."""
    return json.loads(request.user_text().split("\n", 1)[1])


def translating(words: dict[str, str]) -> Callable[[Request], Answer | None]:
    """A fake translator that translates like Claude would: ``words``, everything
    protected kept (any other request: not its business)."""

    def translate(request: Request) -> Answer | None:
        if request.body.get("tools", [{}])[0].get("name") != "Translation":
            return None
        out = []
        for text in texts_of(request):
            for english, word in words.items():
                text = re.sub(rf"\b{english}\b", word, text)
            out.append(text)
        return Answer(tool={"name": "Translation", "input": {"texts": out}})

    return translate


german = translating(WORDS)


def translations(fake: FakeAnthropic) -> list[Request]:
    return [r for r in fake.requests if r.body["tools"][0]["name"] == "Translation"]


async def test_a_german_message_gets_its_whole_confirmation_in_german(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.then(READ)
    fake.responder = german
    reply = await say(kairos, GERMAN)
    assert reply.kind is ReplyKind.CONFIRMATION, reply.text
    task_id = reply.task_id
    assert task_id is not None
    # Kairos's reply, translated: ids, the quoted title and the time kept as they were.
    assert reply.text.startswith(f"Verstanden — #{task_id} 'den Bericht abgeben', morgen")
    assert "15:00" in reply.text and "tomorrow" not in reply.text
    labels = [b.label for b in reply.buttons]
    assert labels and "Erledigt" in labels and "Done" not in labels
    # Then, once per language, the catalog of words renderers add (list lines' states,
    # default buttons): the reply carries it.
    asked, catalog = translations(fake)
    # (what the reply's own translation just said, "Done", is not asked for again)
    assert "overdue" in texts_of(catalog) and "Done" not in texts_of(catalog)
    assert set(texts_of(catalog)) < set(CATALOG)
    assert reply.labels("Snooze 1 h") == "Später 1 h"
    assert "German (de)" in asked.user_text()
    sent = texts_of(asked)
    english = sent[0]
    assert f"#{task_id}" in english and "'den Bericht abgeben'" in english and "15:00" in english
    assert "Done" in sent[1:]  # the buttons go in the same request
    system = asked.system_blocks()[0]
    assert system["cache_control"] == {"type": "ephemeral"}
    assert "Keep these exactly as they are" in system["text"]

    # The same words again cost nothing: the buttons come from the cache, the new
    # confirmation (another task id) alone is sent.
    fake.then(READ)
    again = await say(kairos, GERMAN)
    assert "Erledigt" in [b.label for b in again.buttons]
    second = translations(fake)[2]
    assert texts_of(second) == [again.text.replace("morgen", "tomorrow").replace("Di", "Tue")
                                .replace("März", "Mar")]  # fmt: skip
    task = await kairos.store.get_task(task_id)
    assert task.title == "den Bericht abgeben"


async def test_an_error_is_said_in_the_speakers_language_too(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.then(said(intent="complete_task", language="de", task_ref="99"))
    fake.responder = german
    reply = await say(kairos, "Aufgabe 99 ist erledigt")
    assert reply.kind is ReplyKind.ERROR
    assert "#99" in reply.text
    (asked,) = translations(fake)
    assert "#99" in texts_of(asked)[0]


@pytest.mark.parametrize("failure", ["slow", "overloaded", "lost the id", "budget"])
async def test_without_a_usable_translation_the_reply_goes_out_in_english(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, failure: str
) -> None:
    changes: dict[str, Any] = {"llm_translate_timeout_seconds": 1}
    if failure == "budget":
        changes["llm_daily_tokens"] = 100  # the reading costs 120: nothing left to translate
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), **changes)
    fake.then(READ)
    if failure == "slow":
        fake.then(Answer(tool={"name": "Translation", "input": {"texts": ["x"]}}, delay=5))
    elif failure == "overloaded":
        fake.then(Answer(status=529))
    elif failure == "lost the id":

        def careless(request: Request) -> Answer:  # "#3" became "Nr. 3"
            texts = texts_of(request)
            texts[0] = re.sub(r"#(\d+)", r"Nr. \1", texts[0])
            return Answer(tool={"name": "Translation", "input": {"texts": texts}})

        fake.responder = careless
    reply = await say(kairos, GERMAN)
    assert reply.kind is ReplyKind.CONFIRMATION, reply.text
    # Kairos's own reply: the lead word it knows in German, the rest as Kairos wrote it.
    assert reply.text.startswith(f"Verstanden — #{reply.task_id} 'den Bericht abgeben', tomorrow")
    assert "Done" in [b.label for b in reply.buttons]
    if failure == "budget":
        assert translations(fake) == []  # refused before any request
    else:
        assert len(translations(fake)) == 1  # one attempt, no retries: the person waits


async def test_english_needs_no_translation(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    reply = await say(kairos, "remind me tomorrow at 3pm to submit the report")
    assert reply.text.startswith("Got it — ") and fake.requests == []


def test_what_a_translation_must_keep() -> None:
    text = (
        "Got it — #12 'call Bo's mum', tomorrow 17:00 CET in #eng for @U024BE7LH. "
        "I didn't get `ls -l`; see https://x.test/a?b=1 or say 'help'."
    )
    assert protected(text) == [
        "#12",
        "call Bo's mum",
        "17:00",
        "#eng",
        "@U024BE7LH",
        "`ls -l`",
        "https://x.test/a?b=1",
        "help",
    ]
    german = (
        "Verstanden — #12 „call Bo's mum“, morgen 17:00 MEZ in #eng für @U024BE7LH. "
        "`ls -l` habe ich nicht verstanden; siehe https://x.test/a?b=1 oder sag 'help'."
    )
    assert kept_intact(text, german)
    assert not kept_intact(text, german.replace("#12", "Nr. 12"))
    assert not kept_intact(text, "")
