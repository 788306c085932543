"""The language a person last wrote in is remembered: follow-ups Claude never reads ("ja",
a number, a button press) are answered in it, until a message clearly in English."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from bot.console import to_inbound
from core.messages import Reply, ReplyKind

from .conftest import KEY, ZONE, say
from .fake_anthropic import FakeAnthropic, said
from .test_reply_language import GERMAN, READ, german, texts_of, translations


async def press(kairos: Any, action: str, value: str) -> Reply:
    (reply,) = await kairos.conversation.press(
        to_inbound("", user="ana", timezone=ZONE), action=action, value=value
    )
    return reply


async def german_task(open_kairos: Callable[..., Any], fake: FakeAnthropic) -> tuple[Any, int]:
    """A Kairos with a key where ana has just set up a reminder in German."""
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.responder = german
    fake.then(READ)
    created = await say(kairos, GERMAN)
    assert created.task_id is not None
    return kairos, created.task_id


async def test_a_german_ja_to_a_question_is_answered_in_german(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.responder = german
    unsure = said(
        intent="create_reminder",
        language="de",
        title="den Bericht abgeben",
        when={"day": "tomorrow", "clock": "15:00"},
        confidence=0.3,
    )
    fake.then(unsure)
    asked = await say(kairos, GERMAN)
    assert asked.kind is ReplyKind.QUESTION and "morgen" in asked.text, asked.text
    read = len(fake.requests)
    # "ja" is no English and too short for any language: the rules take it as the
    # answer, Claude never reads it, and the reply is still German.
    done = await say(kairos, "ja")
    assert done.kind is ReplyKind.CONFIRMATION, done.text
    assert done.text.startswith(f"Verstanden — #{done.task_id} 'den Bericht abgeben', morgen")
    assert [r for r in fake.requests[read:] if r not in translations(fake)] == []
    task = await kairos.store.get_task(done.task_id)
    assert task.language == "de"  # its later posts: German too


async def test_buttons_and_rule_read_follow_ups_stay_german_until_english_is_written(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos, task_id = await german_task(open_kairos, fake)
    # A button press: no words at all, answered in the language last written in.
    done = await press(kairos, "task.done", str(task_id))
    assert done.text == f"Erledigt — #{task_id} 'den Bericht abgeben'. Gut gemacht.", done.text
    reopened = await press(kairos, "task.reopen", str(task_id))
    assert reopened.text.startswith(f"Reopened — #{task_id} 'den Bericht abgeben', morgen Di")
    # A short command the rules read ("list"): German, titles kept as they are.
    listed = await say(kairos, "list")
    assert listed.kind is ReplyKind.TASK_LIST and "den Bericht abgeben" in listed.text
    assert "Di 03 März 15:00" in listed.text, listed.text
    sent = texts_of(translations(fake)[-1])[0]
    assert "{w0}" in sent and "den Bericht abgeben" not in sent  # held out, put back
    # A sentence clearly in English switches back: nothing more is translated.
    asked = len(translations(fake))
    english = await say(kairos, "remind me tomorrow at 3pm to submit the report")
    assert english.text.startswith("Got it — ") and "Done" in [b.label for b in english.buttons]
    pressed = await press(kairos, "task.done", str(english.task_id))
    assert pressed.text.startswith("Done — ") and pressed.text.endswith("Nice work.")
    assert len(translations(fake)) == asked
    assert (await kairos.store.get_task(english.task_id)).language == "en"


async def test_the_language_is_kept_in_the_database_across_a_restart(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos, task_id = await german_task(open_kairos, fake)
    await kairos.close()
    again = await open_kairos(anthropic_api_key=SecretStr(KEY))
    done = await press(again, "task.done", str(task_id))
    assert done.text.startswith("Erledigt — "), done.text


async def test_without_a_key_follow_ups_and_buttons_are_as_before(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos()
    created = await say(kairos, "remind me tomorrow at 3pm to submit the report")
    assert created.text.startswith("Got it — ")
    ja = await say(kairos, "ja")
    assert ja.text == "Sorry, I didn't understand that. Say 'help' to see what I can do."
    done = await press(kairos, "task.done", str(created.task_id))
    assert done.text.startswith("Done — ")
    assert fake.requests == []
    assert (await kairos.store.get_task(created.task_id)).language == "en"


async def test_a_german_answer_to_kairos_question_is_read_with_the_question(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.responder = german
    fake.then(said(intent="create_reminder", language="de", title="den Bericht abgeben"))
    asked = await say(kairos, "Erinnere mich, den Bericht abzugeben")
    assert asked.kind is ReplyKind.QUESTION and "'den Bericht abgeben'" not in asked.text
    (question,) = texts_of(translations(fake)[-1])
    assert question.startswith("When should I remind you to den Bericht abgeben?")
    fake.then(READ)  # the rules cannot use the German answer: Claude reads it, with the question
    done = await say(kairos, "morgen um 15 Uhr")
    assert done.text.startswith(f"Verstanden — #{done.task_id} 'den Bericht abgeben', morgen Di")
    reading = [r for r in fake.requests if r not in translations(fake)][-1]
    assert "Kairos just asked this person about: 'Erinnere mich" in reading.user_text()


async def test_german_with_english_words_is_no_switch_to_english(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    """The rules read "… Open the Due list" as a sure task; the sentence is still German.
    Claude is asked, and when it cannot help, the rules' reading is only proposed (it
    read a few English words) — and ana is not taken for an English speaker."""
    kairos, task_id = await german_task(open_kairos, fake)
    read = len(fake.requests)
    fake.then(said(intent="unknown"))
    mixed = await say(kairos, "Erinnere mich heute um 8 Uhr, Open the Due list")
    asked = [r for r in fake.requests[read:] if r not in translations(fake)]
    assert len(asked) == 1  # Claude read it, though the rules were "sure"
    assert mixed.kind is ReplyKind.QUESTION and mixed.task_id is None, mixed.text
    (question,) = texts_of(translations(fake)[-1])
    assert question.startswith("Did you mean: create task"), question  # sent to be German
    done = await press(kairos, "task.done", str(task_id))
    assert done.text.startswith("Erledigt — "), done.text
