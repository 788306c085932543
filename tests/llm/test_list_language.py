"""The words renderers add around a reply follow its language too: a task list's lines
(their times, states, "overdue", "…and 2 more"), the default buttons of a card reply,
Discord's note on a cut reply, the App Home and the note on a card Kairos could not
post. What people wrote stays as written; English, byte for byte, without a key."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from slack.fake_slack import FakeSlack

from bot.discord.render import MAX_CONTENT
from bot.discord.render import MAX_LIST_TASKS as DISCORD_LIST
from bot.discord.render import render as discord_render
from bot.slack.adapter import Origin, SlackAdapter
from bot.slack.blocks import MAX_LIST_TASKS as SLACK_LIST
from bot.slack.blocks import render as slack_render
from core.clock import ManualClock
from core.enums import Platform
from core.messages import Inbound, Reply, ReplyKind
from core.models import Member
from core.store import SqlStore
from integrations.llm.client import ClaudeClient

from .conftest import KEY, say
from .fake_anthropic import FakeAnthropic, said
from .test_card_language import (  # noqa: F401 (cards: a fixture)
    CARD_WORDS,
    cards,
    kairos_on_slack,
    languages,
    owner,
    sent,
    task,
)
from .test_reply_language import translating, translations

#: The fake's German for the list's and the views' words (on top of the cards'): whole
#: phrases first, the fake replaces in this order.
LIST_WORDS = {
    "Your open tasks": "Deine offenen Aufgaben",
    "Upcoming reminders": "Anstehende Erinnerungen",
    "No reminders scheduled": "Keine Erinnerungen geplant",
    "Recent runs": "Letzte Läufe",
    "No runs yet": "Noch keine Läufe",
    "the full text is attached": "der ganze Text ist angehängt",
    "I could not post its card": "ich konnte die Karte nicht posten",
    "Not posted in": "Nicht gepostet in",
    **CARD_WORDS,
    "due": "fällig",
    "overdue": "überfällig",
    "open": "offen",
    "and": "und",
    "more": "weitere",
    "cut": "gekürzt",
    "saved": "gespeichert",
}
deutsch = translating(LIST_WORDS)

#: What ana wrote: words the fake would translate if it were given them to translate.
TITLES = [f"Review {n}: open the Due list" for n in range(DISCORD_LIST + 2)]
#: How many each surface leaves out of the list.
SLACK_MORE, DISCORD_MORE = len(TITLES) - SLACK_LIST, len(TITLES) - DISCORD_LIST


async def german_list(kairos: Any, fake: FakeAnthropic, clock: ManualClock) -> Reply:
    ana = await owner(kairos)
    for n, title in enumerate(TITLES):
        due = clock.now() + timedelta(days=1, minutes=n) if n else clock.now() - timedelta(hours=2)
        fields = {"title": title, "due": due, "priority": "high" if n == 1 else "normal"}
        await kairos.tasks.create(fields, actor=ana)
    fake.responder = deutsch
    fake.then(said(intent="list_tasks", language="de"))
    reply = await say(kairos, "Zeig mir bitte alle meine offenen Aufgaben")
    assert reply.kind is ReplyKind.TASK_LIST, reply.text
    return reply


async def test_a_german_task_list_shows_its_lines_in_german(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    reply = await german_list(kairos, fake, clock)
    late, high = reply.tasks[0], reply.tasks[1]
    assert late.overdue and late.when.startswith("fällig ") and late.status == "offen"
    assert high.priority == "hoch" and "morgen" in high.when
    assert [line.title for line in reply.tasks] == TITLES  # as written, in the lines too
    # Slack: each line in German, the cut-off note too; the titles as written.
    blocks = slack_render(reply).blocks
    lines = [b["text"]["text"] for b in blocks if b.get("block_id", "").startswith("task:")]
    assert len(lines) == SLACK_LIST
    assert lines[0].endswith("_überfällig_") and "· offen · normal" in lines[0]
    assert f"*#{high.task_id}* {TITLES[1]}\nfällig morgen" in lines[1] and "hoch" in lines[1]
    assert blocks[-1]["elements"][0]["text"] == f"…und {SLACK_MORE} weitere"
    assert "overdue" not in json.dumps(blocks) and " more" not in json.dumps(blocks)
    # Discord: the same lines in the list's embed.
    embed = discord_render(reply).embeds[0]
    assert "🔴" in embed.description and "· offen ·" in embed.description
    assert embed.description.endswith(f"…und {DISCORD_MORE} weitere")
    assert TITLES[1] in embed.description
    assert not any(title in asked for title in TITLES for asked in sent(fake))  # held out
    # The list and the catalog: two requests; asked again, both come from memory.
    assert len(translations(fake)) == 2
    fake.then(said(intent="list_tasks", language="de"))
    again = await say(kairos, "Zeig mir bitte alle meine offenen Aufgaben")
    assert again.tasks[0].status == "offen" and again.labels("overdue") == "überfällig"
    assert len(translations(fake)) == 2


async def test_without_a_key_a_task_list_renders_as_before(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos()
    ana = await owner(kairos)
    for title in TITLES:
        await kairos.tasks.create(
            {"title": title, "due": clock.now() - timedelta(hours=1)}, actor=ana
        )
    reply = await say(kairos, "list")
    blocks = slack_render(reply).blocks
    first = next(b for b in blocks if b.get("block_id", "").startswith("task:"))["text"]["text"]
    assert first.endswith("_overdue_") and "· open · normal" in first, first
    assert blocks[-1]["elements"][0]["text"] == f"…and {SLACK_MORE} more"
    assert discord_render(reply).embeds[0].description.endswith(f"…and {DISCORD_MORE} more")
    assert fake.requests == []


async def test_a_translated_card_reply_gets_its_default_buttons_and_cut_note_in_german(
    fake: FakeAnthropic, claude: ClaudeClient, store: SqlStore
) -> None:
    await store.ensure_workspace(Platform.SLACK, "T0001")  # workspace 1: its usage
    fake.responder = deutsch
    language = languages(claude)
    long = "Reminder: saved. " * (MAX_CONTENT // 10)
    reply = Reply(text=long, kind=ReplyKind.CONFIRMATION, task_id=3)
    (german,) = await language.into([reply], "de", workspace_id=1)
    buttons = [e["text"]["text"] for e in slack_render(german).blocks[-1]["elements"]]
    assert buttons[0] == "Erledigt" and "Jetzt ausführen" in buttons and "Done" not in buttons
    message = discord_render(german)
    assert message.buttons[0].label == "Erledigt" and "Bearbeiten" in [
        b.label for b in message.buttons
    ]
    assert message.content.endswith("… (gekürzt; der ganze Text ist angehängt)")
    assert message.file is not None and message.file.content.startswith("Erinnerung: gespeichert.")
    # English: the renderers' own words, exactly as before.
    (english,) = await language.into([reply], "en", workspace_id=1)
    assert discord_render(english).content.endswith("… (cut; the full text is attached)")
    assert discord_render(english).buttons[0].label == "Done"


async def test_the_app_home_is_in_the_language_its_reader_last_wrote_in(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, slack: FakeSlack, clock: ManualClock
) -> None:
    kairos = await kairos_on_slack(open_kairos, slack)
    fake.responder = deutsch
    surface = kairos.add_slack()
    workspace = await kairos.store.ensure_workspace(Platform.SLACK, "T0001")
    ana = await kairos.store.ensure_member(workspace.id, "U0001")
    title = "Open the Due list"
    late = clock.now() - timedelta(hours=3)
    await kairos.tasks.create({"title": title, "due": late, "assignees": ["U0001"]}, actor=ana)
    await kairos.conversation.memory.spoke(workspace_id=workspace.id, person="U0001", language="de")

    async def home_of(user: str) -> dict[str, Any]:
        inbound = Inbound(Platform.SLACK, "T0001", user, "", user_timezone="UTC")
        await surface.listeners.publish_home(surface.adapter.clients.single, inbound)
        view: dict[str, Any] = slack.of("views.publish")[-1].view()
        return view

    view = await home_of("U0001")
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == ["Deine offenen Aufgaben", "Anstehende Erinnerungen", "Letzte Läufe"]
    text = json.dumps(view, ensure_ascii=False)
    assert "_überfällig_" in text and "Keine Erinnerungen geplant" in text
    assert "Noch keine Läufe" in text and f"{title}\\n" in text
    buttons = [
        e["text"]["text"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["Erledigt", "Später 20 min", "Später 1 h"]
    assert not any(title in asked for asked in sent(fake))  # the title was never sent
    # bob never wrote in another language: his home is Kairos's English, and costs nothing.
    asked = len(fake.requests)
    await kairos.store.ensure_member(workspace.id, "U0002")
    view = await home_of("U0002")
    assert view["blocks"][0]["text"]["text"] == "Your open tasks"
    assert len(fake.requests) == asked


@pytest.fixture
async def closed(
    fake: FakeAnthropic,
    claude: ClaudeClient,
    slack: FakeSlack,
    cards: SlackAdapter,  # noqa: F811
    store: SqlStore,
) -> Member:
    """German words on ``cards``, whose channel C0009 Kairos is not in; ana of T0001."""
    workspace = await store.ensure_workspace(Platform.SLACK, "T0001")  # 1: its usage
    fake.responder = deutsch
    cards.use_labels(languages(claude))
    slack.closed_channels.add("C0009")
    return await store.ensure_member(workspace.id, "U0001")


async def test_a_card_kairos_could_not_post_is_explained_in_the_tasks_language(
    fake: FakeAnthropic,
    slack: FakeSlack,
    cards: SlackAdapter,  # noqa: F811
    closed: Member,
) -> None:
    card = task(channel_ref="C0009", thread_ref=None)
    inbound = Inbound(Platform.SLACK, "T0001", "U0001", "", channel_ref="C0001")
    origin = Origin(client=cards.clients.single, inbound=inbound)  # type: ignore[arg-type]
    reply = Reply(text="Verstanden", kind=ReplyKind.CONFIRMATION, task_id=card.id, task=card)
    await cards.deliver([reply], origin)
    (note,) = slack.of("chat.postEphemeral")
    said_ = note.body["text"]
    assert said_.startswith(f"#3 '{card.title}' is gespeichert, but ich konnte die Karte nicht")
    assert "`/invite @Kairos`" in said_ and "<#C0009>" in said_
    assert not any(card.title in asked for asked in sent(fake))  # held out, put back


async def test_a_reminder_its_channel_refused_reaches_its_creator_told_why_in_german(
    fake: FakeAnthropic,
    slack: FakeSlack,
    cards: SlackAdapter,  # noqa: F811
    closed: Member,
) -> None:
    card = task(channel_ref="C0009", thread_ref=None, created_by=closed.id)
    reminder = Reply(
        text=f"Erinnerung: {card.title}", kind=ReplyKind.REMINDER, task_id=card.id, task=card
    )
    await cards.send(replace(reminder, channel_ref="C0009"))
    dm = slack.of("chat.postMessage")[-1]
    assert dm.body["channel"].startswith("D")
    said_ = dm.body["text"]
    assert said_.startswith(f"Erinnerung: {card.title}\n(Nicht gepostet in <#C0009>: I'm not a")
    assert "`/invite @Kairos`" in said_
    assert not any(card.title in asked for asked in sent(fake))  # held out, put back
