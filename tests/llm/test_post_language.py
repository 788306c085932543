"""Later posts follow the language of the person who set the task up: Kairos's own words
in German, what people wrote untouched; English (and on time) when translating fails."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import SecretStr
from waiting import eventually

from core.clock import ManualClock
from core.enums import Platform
from core.messages import Reply, ReplyKind
from core.planning.plan import Plan, PlanStep

from .conftest import KEY, say
from .fake_anthropic import Answer, FakeAnthropic, Request, said
from .test_language_memory import press
from .test_plan_cap_race import plan_sink
from .test_reply_language import german, texts_of, translations

#: What ana wrote: "Snooze" is a word the fake translator would change if it saw it.
TITLE = "Snooze-Alarm für Bo testen"
READ = said(
    intent="create_reminder",
    language="de",
    title=TITLE,
    when={"day": "tomorrow", "clock": "15:00"},
)


@dataclass
class Posts:
    """The chat adapter: every post with the clock time and the real time it was sent."""

    clock: ManualClock
    sent: list[tuple[datetime, float, Reply]] = field(default_factory=list)

    async def send(self, reply: Reply) -> str | None:
        self.sent.append((self.clock.now(), time.monotonic(), reply))
        return None

    def of(self, kind: ReplyKind) -> list[tuple[datetime, float, Reply]]:
        return [post for post in self.sent if post[2].kind is kind]


async def german_reminder(kairos: Any, fake: FakeAnthropic, clock: ManualClock) -> Posts:
    posts = Posts(clock)
    kairos.add_chat(Platform.CONSOLE, posts)
    fake.responder = german
    fake.then(READ)
    created = await say(kairos, "Erinnere mich morgen um 15 Uhr: Snooze-Alarm für Bo testen")
    assert created.text.startswith("Verstanden"), created.text
    return posts


async def fire(kairos: Any, clock: ManualClock, task_id: int = 1) -> datetime:
    due = (await kairos.store.get_task(task_id)).next_fire_at
    clock.advance(due - clock.now())
    return due


def sent_texts(fake: FakeAnthropic, *, after: int = 0) -> list[str]:
    """The texts sent to be translated (after the first ``after`` translation requests)."""
    return [text for request in translations(fake)[after:] for text in texts_of(request)]


async def test_a_reminder_set_up_in_german_is_posted_with_german_words(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    posts = await german_reminder(kairos, fake, clock)
    said_before = len(translations(fake))  # the confirmation (its title quoted)
    due = await fire(kairos, clock)
    await eventually(lambda: posts.of(ReplyKind.REMINDER))
    ((at, _, reminder),) = posts.of(ReplyKind.REMINDER)
    assert reminder.text == f"Erinnerung: {TITLE}"  # ana's words exactly as she wrote them
    assert at == due
    labels = [b.label for b in reminder.buttons]
    assert labels[1:] and all(label.startswith("Später ") for label in labels[1:]), labels
    assert "Reminder:" in sent_texts(fake, after=said_before)
    assert not any(TITLE in text for text in sent_texts(fake, after=said_before))  # never sent


async def test_a_failing_translation_posts_the_reminder_in_english_on_time(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), llm_translate_timeout_seconds=1)
    posts = await german_reminder(kairos, fake, clock)
    slow = Answer(tool={"name": "Translation", "input": {"texts": ["x"]}}, delay=5)

    def overloaded(request: Request) -> Answer | None:
        return slow if german(request) is not None else None

    fake.responder = overloaded
    fired = time.monotonic()
    due = await fire(kairos, clock)
    await eventually(lambda: posts.of(ReplyKind.REMINDER))
    ((at, posted, reminder),) = posts.of(ReplyKind.REMINDER)
    assert reminder.text == f"Reminder: {TITLE}"
    assert [b.label for b in reminder.buttons][1].startswith("Snooze ")
    assert at == due
    assert posted - fired < slow.delay  # it did not wait for the translation
    assert await eventually(lambda: _completed(kairos))
    # The next minute tries no translation at all: a burst of posts never waits each.
    tried = len(translations(fake))
    fake.then(READ)
    await say(kairos, "Erinnere mich morgen um 15 Uhr: Snooze-Alarm für Bo testen")
    await fire(kairos, clock, task_id=2)
    await eventually(lambda: len(posts.of(ReplyKind.REMINDER)) == 2)
    assert posts.of(ReplyKind.REMINDER)[1][2].text == f"Reminder: {TITLE}"
    assert len(translations(fake)) == tried


async def _completed(kairos: Any) -> bool:
    runs = await kairos.runs.runs_for(1)
    return bool(runs) and all(r.status == "completed" for r in runs)


async def test_without_a_key_reminders_are_posted_as_before(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos()
    posts = Posts(clock)
    kairos.add_chat(Platform.CONSOLE, posts)
    await say(kairos, "remind me tomorrow at 3pm to submit the report")
    await fire(kairos, clock)
    await eventually(lambda: posts.of(ReplyKind.REMINDER))
    ((_, _, reminder),) = posts.of(ReplyKind.REMINDER)
    assert reminder.text == "Reminder: submit the report"
    assert [b.label for b in reminder.buttons][1].startswith("Snooze ")
    assert fake.requests == []


async def test_a_german_digest_is_in_german_with_the_titles_in_its_lines_as_they_are(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    posts = await german_reminder(kairos, fake, clock)
    said_before = len(translations(fake))
    ana = await kairos.store.ensure_member(1, "ana")
    digest = await kairos.tasks.create(
        {"kind": "job", "title": "Tagesübersicht", "action": {"type": "digest"}, "language": "de"},
        actor=ana,
    )
    await kairos.scheduler.run_now(digest.id)
    await eventually(lambda: [p for p in posts.sent if p[2].sections])
    ((_, _, post),) = [p for p in posts.sent if p[2].sections]
    title, *rest = post.text.split("\n")
    assert title.startswith("Übersicht — ") and "10:00" in title, post.text
    assert [s.title for s in post.sections] == ["Als Nächstes"]
    # Kairos's words in the lines too ("Tue", "Mar"); ana's title ("Snooze" in it) as it was.
    assert rest == ["Als Nächstes:", "  • #1 Snooze-Alarm für Bo testen — Di 03 März 15:00"]
    assert post.sections[0].lines == ("• #1 Snooze-Alarm für Bo testen — Di 03 März 15:00",)
    sent = sent_texts(fake, after=said_before)
    assert "• #1 {w0} — Tue 03 Mar 15:00" in sent  # the title held out of the request
    assert not any(TITLE in text for text in sent)


async def test_a_workflow_ending_is_told_in_the_approvers_language(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, clock: ManualClock
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    posts = await german_reminder(kairos, fake, clock)
    ana = await kairos.store.ensure_member(1, "ana")
    sink = plan_sink(kairos)
    plan = Plan(goal="Notizen", steps=(PlanStep(key="a", title="Notizen schreiben"),))
    carried = await sink.create(plan, actor=ana, language="de")
    (step,) = carried.tasks
    assert step.language == "de"
    await press(kairos, "task.done", str(step.id))
    await eventually(lambda: [p for p in posts.sent if "'Notizen'" in p[2].text])
    ((_, _, notice),) = [p for p in posts.sent if "'Notizen'" in p[2].text]
    assert notice.text.startswith("🏁 Arbeitsablauf 'Notizen' beendet"), notice.text
