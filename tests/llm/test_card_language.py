"""Kairos's fixed words on cards, result posts and batched notices follow the language of
the task: translated once per language (one request for the whole catalog), what people
wrote never sent and never changed, English as before without a key or when it fails."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from slack.fake_slack import FakeSlack
from slack.test_translate import _task as slack_task
from waiting import eventually

from bot.conversation.labels import CATALOG
from bot.conversation.languages import ReplyLanguage
from bot.discord.render import task_card as discord_card
from bot.slack.adapter import Clients, SlackAdapter
from bot.slack.blocks import task_card as slack_card
from core.clock import ManualClock
from core.enums import Platform, Role
from core.models import TaskPublic
from core.store import SqlStore
from integrations.llm.client import ClaudeClient
from integrations.llm.translator import ClaudeTranslator

from .conftest import KEY
from .fake_anthropic import Answer, FakeAnthropic, Request
from .test_post_language import Posts
from .test_reply_language import WORDS, texts_of, translating, translations

#: What ana wrote, full of words the fake translator would change if it saw them.
TITLE = "Snooze the Due Priority check"
#: The fake's German for the catalog (on top of the replies' words).
CARD_WORDS = {
    **WORDS,
    "Due": "Fällig",
    "Repeats": "Wiederholt",
    "Next": "Nächste",
    "Assignees": "Zuständig",
    "Priority": "Priorität",
    "high": "hoch",
    "every": "alle",
    "Sun": "So",
    "done": "erledigt",
    "Run now": "Jetzt ausführen",
    "Run again": "Nochmal ausführen",
    "Show log": "Log zeigen",
    "Edit": "Bearbeiten",
    "completed in": "erledigt in",
    "failed after": "gescheitert nach",
    "Your job failed": "Dein Job ist gescheitert",
    "notifications": "Benachrichtigungen",
    "assigned you": "hat dir zugewiesen",
}


deutsch = translating(CARD_WORDS)


def sent(fake: FakeAnthropic) -> list[str]:
    return [text for request in translations(fake) for text in texts_of(request)]


def task(**kw: Any) -> TaskPublic:
    """A task ana set up in German, with a card in #C0001."""
    fields = {"title": TITLE, "channel_ref": "C0001", "thread_ref": "1700000000.000001"}
    return slack_task(**{**fields, "language": "de", **kw})


@pytest.fixture
async def cards(
    slack: FakeSlack, store: SqlStore, clock: ManualClock
) -> AsyncIterator[SlackAdapter]:
    clients = Clients(
        base_url=slack.api_url,  # type: ignore[attr-defined]
        token="xoxb-test-T0001",
        installations=None,
        clock=clock,
    )
    yield SlackAdapter(clients=clients, store=store, clock=clock)
    await clients.close()


def languages(claude: ClaudeClient, **kw: Any) -> ReplyLanguage:
    return ReplyLanguage(translator=ClaudeTranslator(client=claude), **kw)


async def posted_card(slack: FakeSlack, cards: SlackAdapter, card: TaskPublic) -> Any:
    await cards.refresh_card(cards.clients.single, card, tz="UTC")  # type: ignore[arg-type]
    return slack.of("chat.update")[-1]


def slack_labels(call: Any) -> tuple[list[str], list[str]]:
    """A posted card's field names and button labels."""
    blocks = call.blocks()
    fields = [f["text"].split("\n")[0].strip("*") for f in blocks[1]["fields"]]
    buttons = [e["text"]["text"] for e in blocks[-1]["elements"]]
    return fields, buttons


async def test_a_german_tasks_card_has_german_labels_and_its_title_as_written(
    fake: FakeAnthropic, claude: ClaudeClient, slack: FakeSlack, cards: SlackAdapter
) -> None:
    fake.responder = deutsch
    language = languages(claude)
    cards.use_labels(language)
    call = await posted_card(slack, cards, task())
    fields, buttons = slack_labels(call)
    assert fields == ["Fällig", "Wiederholt", "Zuständig", "Priorität"]
    assert buttons[0] == "Erledigt" and "Später 20 min" in buttons and buttons[-1] == "Bearbeiten"
    assert call.blocks()[0]["text"]["text"] == f"*#3* {TITLE}"
    assert call.body["text"] == f"#3 {TITLE}"
    # Discord's embed, from the same catalog: no further request.
    labels = await language.labels("de", workspace_id=1)
    embed = discord_card(task(), tz="UTC", now=datetime(2026, 3, 2, 9, tzinfo=UTC), labels=labels)
    assert [f.name for f in embed.embeds[0].fields] == fields
    assert embed.embeds[0].title == f"#3 {TITLE}" and embed.content == f"#3 {TITLE}"
    assert [b.label for b in embed.buttons][:2] == ["Erledigt", "Später 20 min"]
    assert "Jetzt ausführen" in [b.label for b in embed.buttons]
    # A second card (another task) costs nothing; the whole catalog went in one request.
    await posted_card(slack, cards, task(id=4, title="zweite Aufgabe"))
    catalog, phrases = translations(fake)
    assert texts_of(catalog) == list(CATALOG)
    assert texts_of(phrases) == ["Sun 01 Mar 00:00 UTC", "every 2 h"]
    assert not any(TITLE in text for text in sent(fake))
    # Kairos's phrases on the card too (times kept), in one more request, then remembered.
    values = [f["text"].split("\n", 1)[1] for f in call.blocks()[1]["fields"]]
    assert values[:2] == ["So 01 März 00:00 UTC  :red_circle:", "alle 2 h"]
    # Values that are Kairos's words too: a priority, a finished state.
    urgent = (await posted_card(slack, cards, task(id=6, priority="high"))).blocks()[1]
    assert urgent["fields"][-1]["text"] == "*Priorität*\nhoch"
    done = await posted_card(slack, cards, task(id=7, status="done"))
    assert done.blocks()[0]["text"]["text"].endswith("_erledigt_")
    embed = discord_card(
        task(id=7, status="done", priority="high"),
        tz="UTC",
        now=datetime(2026, 3, 2, 9, tzinfo=UTC),
        labels=labels,
    )
    assert embed.embeds[0].description == "erledigt"
    assert embed.embeds[0].fields[-1].value == "hoch"
    # An English task's card on the same surface: English, no request.
    fields, _ = slack_labels(await posted_card(slack, cards, task(id=5, language="en")))
    assert fields == ["Due", "Repeats", "Assignees", "Priority"]
    assert len(translations(fake)) == 2  # the catalog and the first card's phrases


async def test_without_a_key_a_card_is_exactly_as_before(
    fake: FakeAnthropic, slack: FakeSlack, cards: SlackAdapter
) -> None:
    card = task()
    call = await posted_card(slack, cards, card)
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert call.blocks() == slack_card(card, tz="UTC", now=cards._clock.now()).blocks
    assert slack_labels(call)[0] == ["Due", "Repeats", "Assignees", "Priority"]
    embed = discord_card(card, tz="UTC", now=now)
    assert [f.name for f in embed.embeds[0].fields] == ["Due", "Repeats", "Assignees", "Priority"]
    assert embed.buttons[0].label == "Done"
    assert fake.requests == []


@pytest.mark.parametrize("failure", ["overloaded", "lost a placeholder"])
async def test_a_failing_translation_leaves_english_and_is_not_asked_again(
    fake: FakeAnthropic,
    make_claude: Callable[..., ClaudeClient],
    slack: FakeSlack,
    cards: SlackAdapter,
    failure: str,
) -> None:
    if failure == "overloaded":
        fake.responder = lambda request: Answer(status=529)
    else:

        def careless(request: Request) -> Answer:  # "{task}" left out of every frame
            answer = deutsch(request)
            assert answer is not None and answer.tool is not None
            texts = [t.replace("{task} ", "") for t in answer.tool["input"]["texts"]]
            return Answer(tool={"name": "Translation", "input": {"texts": texts}})

        fake.responder = careless
    language = languages(make_claude(max_retries=0))
    cards.use_labels(language)
    fields, buttons = slack_labels(await posted_card(slack, cards, task()))
    tried = len(fake.requests)
    # The catalog; then (when it came back at all) the card's phrases.
    assert tried == (1 if failure == "overloaded" else 2)
    for n in range(5):  # a burst of cards: no request each
        await posted_card(slack, cards, task(id=10 + n))
    assert len(fake.requests) == tried
    labels = await language.labels("de", workspace_id=1)
    frame = "✓ {task} completed in {took}: {summary}"
    if failure == "overloaded":
        assert fields == ["Due", "Repeats", "Assignees", "Priority"] and buttons[0] == "Done"
        assert labels(frame) == frame
    else:  # the frame that lost its title stays English, the words around it are German
        assert fields == ["Fällig", "Wiederholt", "Zuständig", "Priorität"]
        assert labels(frame) == frame
        assert labels.fill(frame, task="#1 'x'", took="1 s", summary="ok") == (
            "✓ #1 'x' completed in 1 s: ok"
        )


async def owner(kairos: Any) -> Any:
    workspace = await kairos.store.ensure_workspace(Platform.CONSOLE, "local")
    return await kairos.store.ensure_member(workspace.id, "ana", role=Role.OWNER)


#: A script whose output is full of words the fake translator would change.
OUTPUT = "Run now: Done, completed in Snooze"


async def test_a_german_jobs_results_are_posted_in_german_with_its_words_as_they_are(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), shell_allow="*", shell_user="")
    fake.responder = deutsch
    posts = Posts(clock)
    kairos.add_chat(Platform.CONSOLE, posts)
    ana = await owner(kairos)
    ok = await kairos.tasks.create(
        {
            "kind": "job",
            "title": TITLE,
            "language": "de",
            "action": {"type": "shell", "command": f"echo '{OUTPUT}'"},
        },
        actor=ana,
    )
    await kairos.scheduler.run_now(ok.id)
    await eventually(lambda: posts.sent, within=20)
    (_, _, post) = posts.sent[0]
    assert post.text.startswith(f"✓ #{ok.id} '{TITLE}' erledigt in "), post.text
    assert f"\n```\n{OUTPUT}\n```" in post.text
    assert [b.label for b in post.buttons] == ["Log zeigen", "Nochmal ausführen"]
    failed = await kairos.tasks.create(
        {
            "kind": "job",
            "title": TITLE,
            "language": "de",
            "channel_ref": "#ops",
            "retry_policy": {"max_attempts": 1},
            "action": {"type": "shell", "shell": True, "command": f"echo '{OUTPUT}'; exit 3"},
        },
        actor=ana,
    )
    await kairos.scheduler.run_now(failed.id)
    await eventually(lambda: len(posts.sent) >= 3, within=20)
    channel, to_owner = (p[2] for p in posts.sent[1:3])
    assert channel.text.startswith(f"✗ #{failed.id} '{TITLE}' gescheitert nach "), channel.text
    assert f"\n```\n{OUTPUT}\n```" in channel.text
    assert to_owner.text.startswith(f"Dein Job ist gescheitert. ✗ #{failed.id} '{TITLE}'")
    # People's words (the title, the script's output) were never sent to be translated.
    assert not any(TITLE in text or OUTPUT in text for text in sent(fake))
    assert len(translations(fake)) == 1  # the catalog, once for all three posts


async def test_without_a_key_a_jobs_result_is_english_as_before(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(shell_allow="*", shell_user="")
    posts = Posts(clock)
    kairos.add_chat(Platform.CONSOLE, posts)
    job = await kairos.tasks.create(
        {
            "kind": "job",
            "title": TITLE,
            "language": "de",
            "action": {"type": "shell", "command": f"echo '{OUTPUT}'"},
        },
        actor=await owner(kairos),
    )
    await kairos.scheduler.run_now(job.id)
    await eventually(lambda: posts.sent, within=20)
    (_, _, post) = posts.sent[0]
    assert re.match(rf"✓ #{job.id} '{TITLE}' completed in \d+\.\d s: ", post.text), post.text
    assert [b.label for b in post.buttons] == ["Show log", "Run again"]
    assert fake.requests == []


async def batch_to_bob(kairos: Any, clock: ManualClock, titles: list[str]) -> str:
    """ana assigns bob low-priority tasks set up in German; bob gets them in one batch."""
    posts = Posts(clock)
    kairos.add_chat(Platform.CONSOLE, posts)
    ana = await owner(kairos)
    bob = await kairos.store.ensure_member(ana.workspace_id, "bob")
    await kairos.notices.service.set_batch(bob, 30)
    await kairos.notices.once()  # notices start from here
    for title in titles:
        due = clock.now() + timedelta(days=3)
        await kairos.tasks.create(
            {"title": title, "assignees": ["bob"], "priority": "low", "due": due, "language": "de"},
            actor=ana,
        )
    await kairos.notices.once()  # planned now: held for the batch
    clock.advance(timedelta(minutes=70))  # the batch goes at the next full hour
    kairos.notices.wake()
    await eventually(lambda: [p for p in posts.sent if p[2].user_ref == "bob"], within=20)
    ((_, _, batch),) = [p for p in posts.sent if p[2].user_ref == "bob"]
    return batch.text


async def test_a_batch_of_notices_about_german_tasks_is_in_german(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.responder = deutsch
    titles = ["Snooze the wiki", "Done with the inbox"]
    text = await batch_to_bob(kairos, clock, titles)
    head, *lines = text.split("\n")
    assert head == "2 Benachrichtigungen:", text
    assert len(lines) == 2 and all("hat dir zugewiesen" in line for line in lines), lines
    assert sorted(re.findall(r"'([^']+)'", text)) == sorted(titles)
    assert not any(title in asked for title in titles for asked in sent(fake))  # held out


async def test_a_batch_is_english_without_a_key(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos()
    text = await batch_to_bob(kairos, clock, ["Snooze the wiki", "Done with the inbox"])
    assert text.startswith("2 notifications:\n• 📌 @ana assigned you #"), text
    assert fake.requests == []


async def kairos_on_slack(open_kairos: Callable[..., Any], slack: FakeSlack) -> Any:
    """Kairos with a key and the Slack surface on the fake Slack."""
    return await open_kairos(
        anthropic_api_key=SecretStr(KEY),
        slack_bot_token=SecretStr("xoxb-test-T0001"),
        slack_signing_secret=SecretStr("not-a-real-secret"),
        slack_api_url=slack.api_url,  # type: ignore[attr-defined]
    )


async def test_kairos_with_a_key_wires_the_catalog_into_its_slack_cards(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, slack: FakeSlack
) -> None:
    kairos = await kairos_on_slack(open_kairos, slack)
    fake.responder = deutsch
    surface = kairos.add_slack()
    fields, buttons = slack_labels(await posted_card(slack, surface.adapter, task()))
    assert fields == ["Fällig", "Wiederholt", "Zuständig", "Priorität"]
    assert buttons[0] == "Erledigt"
