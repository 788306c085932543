"""``ChatConversation``: intent → action on the task service or scheduler → reply.

Written once, platform-free: every chat surface hands it an ``Inbound`` and
renders the ``Reply`` objects it returns. Confirmations always say what Kairos
understood, in the speaker's time zone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from bot import formatting
from bot.conversation import replies
from bot.conversation.context import place
from bot.conversation.events_talk import EventsTalk
from bot.conversation.history import RunsTalk
from bot.conversation.insight_talk import InsightTalk
from bot.conversation.languages import (
    NO_WORDS,
    YES_WORDS,
    ReplyLanguage,
    say,
    shown_language,
)
from bot.conversation.listing import list_query
from bot.conversation.planning import PlanTalk
from bot.conversation.readings import (
    LIVE,
    completions,
    later_runs,
    only_past,
    self_contained,
    undo_values,
    upcoming,
)
from bot.conversation.refs import find_by_words, number_of
from bot.conversation.related import RelatedTalk
from bot.conversation.requesting import RequestAnswers
from bot.conversation.requests import Request
from bot.conversation.requests import match as match_request
from bot.conversation.resolving import TaskReferences
from bot.conversation.schedules import job_title
from bot.conversation.speaker import Asked, Runner, Speaker
from bot.conversation.thread_summary import ThreadSummaryTalk
from bot.conversation.visibility import may_see
from bot.conversation.workflows import WorkflowTalk
from core.enums import Platform, Priority, TaskKind, TaskStatus
from core.errors import InvalidInput, KairosError, NotFound
from core.intents.language import is_sentence
from core.intents.model import Intent, IntentKind
from core.intents.specs import to_spec
from core.messages import Button, Inbound, Reply
from core.models import Member, Run, TaskPublic
from core.ports import (
    AsyncIntentParser,
    Clock,
    IntentParser,
    LanguageModel,
    ParseContext,
    ThreadHistory,
)
from core.services.conversation import ConversationMemory
from core.services.insight import InsightService
from core.services.members import MemberService
from core.services.notices import NoticeService
from core.services.runs import RunService
from core.services.tasks import TaskService
from core.store import SqlStore, TaskQuery
from core.workflows.service import WorkflowService

log = logging.getLogger(__name__)

_YES = frozenset(
    {"yes", "y", "yep", "yeah", "ok", "okay", "sure", "do it", "go ahead", "confirm", "yes please"}
)
_NO = frozenset({"no", "n", "nope", "cancel", "never mind", "nevermind", "don't", "stop"})
#: Schedules that repeat: "done" is for this time only.
_REPEATING = frozenset({"interval", "cron", "rrule", "mixed"})
_KIND_OF = {
    IntentKind.CREATE_REMINDER: TaskKind.REMINDER,
    IntentKind.CREATE_TASK: TaskKind.TASK,
    IntentKind.SCHEDULE_JOB: TaskKind.JOB,
}
_YESTERDAY = re.compile(r"\byesterday\b", re.IGNORECASE)
_PAST_DUE = re.compile(r"\s*\b(?:(?:due|by|until)\s+)?yesterday\b", re.IGNORECASE)
_TODAY = re.compile(r"\b(?:today|this\s+(?:morning|afternoon))\b", re.IGNORECASE)
#: Words that state a time of day (without them "today" names only the day).
_CLOCK = re.compile(
    r"\d|\b(?:noon|midday|midnight|evening|tonight|night|lunch|later|in\s+an?\b)",
    re.IGNORECASE,
)
UNEXPECTED = "Sorry, something went wrong on my side; it has been logged. Please try again."
#: Snooze length when the person gives none ("snooze", "later" without a time).
DEFAULT_SNOOZE = timedelta(minutes=20)
#: How late a missed reminder is still delivered after downtime (then it is skipped).
REMINDER_GRACE_SECONDS = 24 * 3600


Handler = Callable[[Intent, Speaker], Awaitable[list[Reply]]]


class ChatConversation(TaskReferences, RequestAnswers):
    """The platform-neutral conversation (implements ``core.ports.Conversation``)."""

    def __init__(
        self,
        *,
        store: SqlStore,
        tasks: TaskService,
        parser: IntentParser,
        clock: Clock,
        runner: Runner | None = None,
        context: ConversationMemory | None = None,
        default_timezone: str = "UTC",
        confidence_threshold: float = 0.6,
        runs_talk: RunsTalk | None = None,
        events: EventsTalk | None = None,
        notices: NoticeService | None = None,
        insight: InsightService | None = None,
        reader: AsyncIntentParser | None = None,
        plans: PlanTalk | None = None,
        related: RelatedTalk | None = None,
        reply_language: ReplyLanguage | None = None,
    ) -> None:
        #: Replies in the speaker's language (with Claude); ``None``: English.
        self.reply_language = reply_language
        #: "yes"/"no" words: in the reply languages too when Kairos speaks them.
        self._yes = _YES | YES_WORDS if reply_language else _YES
        self._no = _NO | NO_WORDS if reply_language else _NO
        #: Context questions ("what's related to the deploy?"), re-ranked by Claude if set.
        self._related = related
        #: AI-planned workflows (``bot.conversation.planning``); ``None`` without Claude.
        self._plans = plans
        self._summaries: ThreadSummaryTalk | None = None
        self._runs_talk = runs_talk
        self._events = events
        self._insight_talk = (
            InsightTalk(notices=notices, insight=insight, tasks=tasks)
            if notices is not None and insight is not None
            else None
        )
        #: The rules + Claude chain (``core.intents.chain``); ``None``: the rules alone.
        self._reader = reader
        self.workflow_talk: WorkflowTalk | None = None
        self._store = store
        self._tasks = tasks
        self._parser = parser
        self._clock = clock
        self._runner = runner
        self.memory = context or ConversationMemory(store=store, clock=clock)
        self._runs = RunService(store=store, clock=clock, runner=runner)
        self._members = MemberService(store=store, clock=clock)
        self._default_tz = default_timezone
        self._threshold = confidence_threshold
        self._handlers: dict[IntentKind, Handler] = {
            IntentKind.CREATE_REMINDER: self._create,
            IntentKind.CREATE_TASK: self._create,
            IntentKind.SCHEDULE_JOB: self._create,
            IntentKind.LIST_TASKS: self._list,
            IntentKind.COMPLETE_TASK: self._complete,
            IntentKind.UPDATE_TASK: self._update,
            IntentKind.DELETE_TASK: self._delete,
            IntentKind.SNOOZE: self._snooze,
            IntentKind.RUN_TASK: self._run,
            IntentKind.SHOW_HISTORY: self._history,
            IntentKind.REPORT: self._report,
            IntentKind.HELP: self._help,
            IntentKind.UNKNOWN: self._unknown,
        }

    def use_thread_summaries(
        self, *, threads: ThreadHistory | None, model: LanguageModel | None
    ) -> None:
        """Answer "summarize this thread" (``bot.conversation.thread_summary``)."""
        self._summaries = ThreadSummaryTalk(
            tasks=self._tasks, thread_task=self._thread_task, threads=threads, model=model
        )

    def use_plans(self, plans: PlanTalk | None) -> None:
        """AI-planned workflows (built after the workflow service they run on)."""
        self._plans = plans

    def use_workflows(self, workflows: WorkflowService) -> None:
        """Talk about workflows too (``bot.conversation.workflows``)."""

        async def find(name: str, speaker: Speaker) -> TaskPublic:
            return await find_by_words(
                self._tasks,
                name,
                workspace_id=speaker.workspace_id,
                visible=lambda t: self._may_see(t, speaker.member),
            )

        self.workflow_talk = WorkflowTalk(workflows=workflows, tasks=self._tasks, find_task=find)

    # --- the Conversation interface -------------------------------------------------

    async def handle(self, inbound: Inbound) -> list[Reply]:
        return await _guarded(self._handle(inbound), "a message")

    async def press(self, inbound: Inbound, *, action: str, value: str) -> list[Reply]:
        return await _guarded(self._press(inbound, action, value), f"the button {action}")

    async def _handle(self, inbound: Inbound) -> list[Reply]:
        speaker = await self._speaker(inbound)
        # Errors too: in a channel, a refusal concerns only the speaker.
        out = await _guarded(self._handle_as(speaker, inbound.text.strip()), "a message")
        out = await self._in_language(out, speaker)
        return [self._placed(r, speaker) for r in out]

    async def _in_language(self, out: list[Reply], speaker: Speaker) -> list[Reply]:
        """The whole reply, errors included, in the language the person last wrote in
        (this message's, when it showed one): "ja", a number or a button press too."""
        if self.reply_language is None:
            return out
        language = await self.memory.language(
            workspace_id=speaker.workspace_id, person=speaker.person
        )
        return await self.reply_language.into(out, language, workspace_id=speaker.workspace_id)

    async def _heard(self, speaker: Speaker, shown: str | None) -> Speaker:
        """Remember the language a message showed (``None``: none), until another one is."""
        if self.reply_language is None or shown is None or shown == speaker.language:
            return speaker
        await self.memory.spoke(
            workspace_id=speaker.workspace_id, person=speaker.person, language=shown
        )
        return replace(speaker, language=shown)

    def _placed(self, reply: Reply, speaker: Speaker) -> Reply:
        """In a channel, what concerns only the speaker is said to them alone."""
        if not speaker.in_channel or reply.ephemeral or reply.fields.get("public"):
            return reply
        if speaker.inbound.thread_ref and reply.task_id is not None:
            return reply  # about the thread's own (public) card: said in the thread
        return replace(reply, ephemeral=True)

    async def _handle_as(self, speaker: Speaker, text: str) -> list[Reply]:
        key: dict[str, Any] = {
            "workspace_id": speaker.workspace_id,
            "place": speaker.place,
            "person": speaker.person,
        }
        proposal = await self.memory.take_proposal(**key)
        said = text.lower().strip().rstrip("!.")
        planned = proposal is not None and proposal.get("type") == "plan"
        if planned and self._plans is not None and said in self._yes | self._no:
            choice = "plan.approve" if said in self._yes else "plan.cancel"
            return await self._plans.decide(proposal or {}, choice, speaker)
        if planned and self._plans is not None:
            edited = await self._plans.edit(proposal or {}, text, speaker)
            if edited is not None:
                return edited
        if proposal is not None:
            if said in self._yes:
                return await self._accept(proposal, speaker, yes=True)
            if said in self._no or said in {"keep it", "as written"}:
                return await self._accept(proposal, speaker, yes=False)
        if proposal is None and said in self._yes | self._no:
            return [
                replies.text(
                    f"There is nothing waiting for your '{said}' (questions expire after "
                    f"{int(self.memory.ttl.total_seconds() // 60)} minutes). "
                    "What would you like to do?"
                )
            ]
        question = await self.memory.take_question(**key)
        if question is not None and question.get("type") == "which":
            picked = await self._pick(question, text, speaker)
            if picked is not None:
                return picked
        # The talk below understands English phrases: a sentence it answers is English.
        english = "en" if is_sentence(text) else None
        if (got := await self._talk(text, speaker)) is not None:
            await self._heard(speaker, english)
            return got
        request = match_request(text)
        if request is not None:
            return await self._request(request, await self._heard(speaker, english))
        intent, said = self._understand(text, speaker, question)
        # An answer the rules could not use ("morgen um 15 Uhr") is read with the question.
        unusable = said != text and intent.intent is IntentKind.UNKNOWN
        if self._reader is not None and (said == text or unusable):
            reading = await self._reader.read(text, await self._context(speaker, question))
            if said == text or reading.intent.intent is not IntentKind.UNKNOWN:
                shown = shown_language(reading, text, threshold=self._threshold)
                intent, said = reading.intent, text
                speaker = await self._heard(speaker, shown)
        return await self._settle(intent, said, speaker)

    async def _talk(self, text: str, speaker: Speaker) -> list[Reply] | None:
        """Questions and commands beyond tasks (runs, workflows, events, insight, plans,
        summaries, related things); ``None`` when ``text`` is none of them."""
        if self._runs_talk and (got := await self._runs_talk.answer(text, **_where(speaker))):
            return got
        if self.workflow_talk and (got := await self.workflow_talk.answer(text, speaker)):
            return got
        if self._events and (
            got := await self._events.answer(
                text, speaker, subscribe=partial(self._subscribe, speaker)
            )
        ):
            return got
        if self._insight_talk and (got := await self._insight_talk.answer(text, speaker)):
            return got
        if self._plans is not None and (got := await self._plans.answer(text, speaker)):
            return got
        if self._summaries is not None and (got := await self._summaries.answer(text, speaker)):
            return got
        if self._related is not None:
            return await self._related.answer(text, speaker, may_see=self._may_see)
        return None

    async def _settle(self, intent: Intent, said: str, speaker: Speaker) -> list[Reply]:
        """Act on a reading, or ask first when it is unsure or misses a time."""
        intent = self._caught_up(intent, speaker)
        key: dict[str, Any] = {
            "workspace_id": speaker.workspace_id,
            "place": speaker.place,
            "person": speaker.person,
        }
        settled = only_past(intent, self._clock.now())
        untimed = (
            intent.intent in (IntentKind.CREATE_REMINDER, IntentKind.SCHEDULE_JOB)
            and intent.schedule is None
            and bool(intent.title)
        )
        if settled or untimed:
            # A time that has passed gets a proper question (with a suggestion); a
            # missing one is asked for by name ("When should I remind you to …?").
            intent = intent.model_copy(update={"clarification": None})
            speaker = replace(speaker, inbound=replace(speaker.inbound, text=said))
            settled = True  # the next reply asks exactly what is missing
        if intent.clarification:
            return [await self._ask(speaker, intent.clarification, said)]
        waits_for_event = intent.schedule is not None and intent.schedule.kind == "event"
        if (
            not settled
            and not waits_for_event  # refused as it is, however sure the reading
            and intent.intent not in (IntentKind.UNKNOWN, IntentKind.HELP)
            and intent.confidence < self._threshold
        ):
            await self.memory.propose(
                **key, proposal={"type": "intent", "intent": intent.model_dump(mode="json")}
            )
            return [
                replies.question(
                    f"Did you mean: {self._summary(intent, speaker)}? "
                    "Reply 'yes' to go ahead, or say it another way."
                )
            ]
        return await self._act(intent, speaker)

    def _understand(
        self, text: str, speaker: Speaker, question: dict[str, Any] | None
    ) -> tuple[Intent, str]:
        """Parse ``text``; right after a question, first as the answer completing it.

        Returns the reading and the words it was read from. A message that is a
        whole command on its own is that command: the stale question is dropped,
        and nothing of it leaks into the new request. An answer that does not
        complete the question never acts on some other task ("today" is not a
        snooze of whatever was discussed last): the question is asked again.
        """
        now = self._said_at(speaker)
        alone = self._parser.parse(text, now=now, tz=speaker.tz, user="me")
        if question is None or question.get("type") != "complete" or self_contained(alone):
            return alone, text
        asked = str(question.get("text", ""))
        doubtful: tuple[Intent, str] | None = None
        for candidate in completions(asked, text):
            completed = self._parser.parse(candidate, now=now, tz=speaker.tz, user="me")
            if completed.intent is IntentKind.UNKNOWN:
                continue
            if not completed.clarification or only_past(completed, now):
                return completed, candidate
            doubtful = doubtful or (completed, candidate)
        if doubtful is not None:
            return doubtful
        again = Intent(
            intent=IntentKind.UNKNOWN,
            clarification=(
                f"Sorry, I couldn't use '{text}' as an answer. "
                "When should it be? E.g. 'tomorrow at 3pm' or 'in 2 hours'."
            ),
        )
        return again, asked

    def _caught_up(self, intent: Intent, speaker: Speaker) -> Intent:
        """A one-off time that came while the message waited to be read (a command taken
        over after a crash) fires at once, late, rather than being refused as past."""
        sent, now, once = speaker.inbound.sent_at, self._clock.now(), intent.schedule
        if sent is None or once is None or once.kind != "once" or once.at is None:
            return intent
        if not sent < once.at <= now:
            return intent
        at = now + timedelta(seconds=1)
        return intent.model_copy(update={"schedule": once.model_copy(update={"at": at})})

    def _said_at(self, speaker: Speaker) -> datetime:
        """The "now" of what was said: when it was said, if Kairos reads it late."""
        now = self._clock.now()
        sent = speaker.inbound.sent_at
        return min(sent, now) if sent is not None else now

    async def _context(self, speaker: Speaker, question: dict[str, Any] | None) -> ParseContext:
        """What the model may know besides the words (the rules need none of it)."""
        asked = question.get("text") if question else None
        thread = await self._thread_task(speaker) if speaker.inbound.thread_ref else None
        return ParseContext(
            now=self._said_at(speaker),
            tz=speaker.tz,
            workspace_id=speaker.workspace_id,
            question=str(asked) if asked else None,
            task_title=thread.title if thread else None,
        )

    async def _ask(self, speaker: Speaker, question: str, said: str | None = None) -> Reply:
        """Ask back, remembering what was said so that the answer can complete it."""
        await self.memory.ask(
            workspace_id=speaker.workspace_id,
            place=speaker.place,
            person=speaker.person,
            question={"type": "complete", "text": said or speaker.inbound.text.strip()},
        )
        return replies.question(question)

    async def _press(self, inbound: Inbound, action: str, value: str) -> list[Reply]:
        speaker = await self._speaker(inbound)
        out = await _guarded(self._press_as(speaker, action, value), f"the button {action}")
        return await self._in_language(out, speaker)

    async def _press_as(self, speaker: Speaker, action: str, value: str) -> list[Reply]:
        inbound = speaker.inbound
        if action.startswith("plan.") and self._plans is not None:
            return await self._plans.press(action, speaker)
        if action == "run.log" and self._runs_talk and value.isdigit():
            return await self._runs_talk.press(int(value), **_where(speaker))
        task_ref, _, arg = value.partition(":")
        try:
            task_id = int(task_ref)
        except ValueError:
            return [replies.error(f"The button value {value!r} is not valid.")]
        pressed = await self._tasks.get(task_id, workspace_id=speaker.workspace_id)
        if not self._may_see(pressed, speaker.member):
            raise NotFound(f"There is no task #{task_id} you can see.", hint="Say 'list'.")
        if action == "task.done":
            return await self._done(task_id, speaker)
        if action == "task.snooze":
            now = self._clock.now()
            when = (
                formatting.tomorrow_morning(now, speaker.tz)
                if arg == "tomorrow"
                else now + (timedelta(minutes=int(arg)) if arg.isdigit() else DEFAULT_SNOOZE)
            )
            return await self._snooze_until(task_id, when, speaker)
        if action == "task.run":
            return await self._run_id(task_id, speaker)
        if action == "task.reopen":
            return await self._on(Request("reopen", str(task_id)), task_id, speaker)
        if action == "task.restore":
            return await self._on(Request("restore", str(task_id)), task_id, speaker)
        if action == "task.pick":
            # The buttons sit on the question itself (a message of its own, e.g. an
            # ephemeral one in Slack): the question was asked in the place around it.
            around = place(
                user_ref=inbound.user_ref,
                channel_ref=inbound.channel_ref,
                thread_ref=None,
                direct=inbound.is_direct,
            )
            question = None
            for where in dict.fromkeys((speaker.place, around)):
                question = question or await self.memory.take_question(
                    workspace_id=speaker.workspace_id, place=where, person=speaker.person
                )
            if question is None:
                return [replies.error("That question has expired; please ask again.")]
            intent = Intent.model_validate({**question["intent"], "task_ref": str(task_id)})
            return await self._act(intent, speaker)
        if action in ("task.approve", "task.cancel"):
            return [
                replies.text("There is nothing waiting for approval on this task.", task_id=task_id)
            ]
        return [replies.error(f"I don't know the button '{action}'.")]

    # --- dispatch ---------------------------------------------------------------

    async def _act(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        try:
            return await self._handlers[intent.intent](intent, speaker)
        except Asked as asked:
            return [asked.reply]

    async def _speaker(self, inbound: Inbound) -> Speaker:
        workspace = await self._store.ensure_workspace(
            Platform(inbound.platform),
            inbound.workspace_ref,
            default_timezone=self._default_tz,
        )
        assert workspace.id is not None
        member = await self._store.ensure_member(
            workspace.id,
            inbound.user_ref,
            display_name=inbound.user_name,
            timezone=inbound.user_timezone,
        )
        where = place(
            user_ref=inbound.user_ref,
            channel_ref=inbound.channel_ref,
            thread_ref=inbound.thread_ref,
            direct=inbound.is_direct,
        )
        tz = member.timezone or workspace.default_timezone
        language = (
            await self.memory.language(workspace_id=workspace.id, person=member.platform_user_id)
            if self.reply_language is not None
            else "en"
        )
        return Speaker(
            member=member,
            workspace_id=workspace.id,
            tz=tz,
            place=where,
            inbound=inbound,
            language=language,
        )

    async def _remember(self, task: TaskPublic, speaker: Speaker) -> None:
        await self.memory.discussed(
            workspace_id=speaker.workspace_id,
            place=speaker.place,
            person=speaker.person,
            task_id=task.id,
        )

    def _may_see(self, task: TaskPublic, member: Member) -> bool:
        """Private tasks (made in a DM) are seen by their creator and assignees only."""
        return may_see(task, member)

    async def _accept(
        self, proposal: dict[str, Any], speaker: Speaker, *, yes: bool
    ) -> list[Reply]:
        kind = proposal.get("type")
        if kind == "intent":
            if not yes:
                return [replies.text("OK, I won't do that. Say it another way?")]
            return await self._act(Intent.model_validate(proposal["intent"]), speaker)
        if kind == "create":
            chosen = proposal["alt"] if yes else proposal["intent"]
            original = Intent.model_validate(chosen)
            if not yes and original.schedule is not None and original.schedule.kind == "once":
                # A reminder cannot fire in the past: ask for the time instead.
                text = str(proposal.get("text") or "")
                return [
                    await self._ask(
                        speaker,
                        "OK. When should I remind you instead? E.g. 'at 5pm' or 'tomorrow'.",
                        _YESTERDAY.sub("", text).strip(),
                    )
                ]
            return await self._create(Intent.model_validate(chosen), speaker, checked=True)
        if kind == "complete":
            if not yes:
                return [replies.text("OK, left open.")]
            return await self._done(int(proposal["task"]), speaker, force=True)
        if kind == "delete_all":
            if not yes:
                return [replies.text("OK, nothing deleted.")]
            gone = []
            for task_id in proposal.get("tasks", []):
                task = await self._tasks.delete(int(task_id), actor=speaker.member)
                gone.append(f"#{task.id}")
            return [replies.text(f"Deleted {len(gone)} task(s): {', '.join(gone)}.")]
        return [replies.text("OK.")]

    # --- creating -----------------------------------------------------------------

    async def _create(
        self, intent: Intent, speaker: Speaker, *, checked: bool = False
    ) -> list[Reply]:
        kind = _KIND_OF[intent.intent]
        if kind is TaskKind.REMINDER and intent.schedule is None:
            return [
                await self._ask(
                    speaker,
                    f"When should I remind you{' to ' + intent.title if intent.title else ''}? "
                    "E.g. 'tomorrow at 3pm' or 'every Monday at 9'.",
                )
            ]
        if kind is TaskKind.JOB and intent.schedule is None:
            return [await self._ask(speaker, "When should this job run? E.g. 'every night at 2'.")]
        if self.workflow_talk is not None:
            title = job_title(intent) if kind is TaskKind.JOB else intent.title
            arranged = await self.workflow_talk.arrange(intent, speaker, kind=kind, title=title)
            if arranged is not None:
                return arranged
        if intent.schedule is not None and intent.schedule.kind == "event" and self._events:
            assert intent.schedule.event is not None
            event = await self._events.subscription(
                intent.schedule.event, speaker, partial(self._task_id, speaker)
            )
            schedule = intent.schedule.model_copy(update={"event": event})
            intent = intent.model_copy(
                update={
                    "schedule": schedule,
                    "title": intent.title or self._events.title_for(event),
                }
            )
        elif intent.schedule is not None and intent.schedule.kind == "event":
            return [
                replies.error(
                    "I can't react to events such as a task being done yet, so nothing "
                    "was created. Give me a time instead (e.g. 'remind #eng tomorrow at 10 "
                    "to …'), or mark the task done and tell people yourself."
                )
            ]
        if not checked:
            past = await self._question_the_past(intent, speaker)
            if past is not None:
                return [past]
        title = job_title(intent) if kind is TaskKind.JOB else intent.title
        depends = [await self._dependency(name, speaker) for name in intent.depends_on]
        for_me = kind is TaskKind.REMINDER and not intent.channel
        data: dict[str, Any] = {
            "kind": kind,
            "title": title,
            "timezone": speaker.tz,
            "due": intent.due,
            "schedule": to_spec(intent.schedule) if intent.schedule else None,
            "action": intent.action,
            "priority": intent.priority or Priority.NORMAL,
            "assignees": intent.assignees or (["me"] if for_me else []),
            "channel_ref": intent.channel,
            "depends_on": depends,
            "language": speaker.language,
        }
        personal = for_me and (not intent.assignees or intent.assignees == ["me"])
        # Made in a DM, or a personal reminder (its confirmation was private too):
        # only its creator and assignees see it.
        data["private"] = (speaker.inbound.is_direct or personal) and not intent.channel
        if kind is TaskKind.REMINDER:
            # After downtime a reminder is better late (saying so) than never.
            data["misfire_grace_seconds"] = REMINDER_GRACE_SECONDS
        if speaker.in_channel and not intent.channel and not personal:
            data["channel_ref"] = speaker.inbound.channel_ref
            if speaker.inbound.thread_ref:
                data["thread_ref"] = speaker.inbound.thread_ref
        task = await self._tasks.create(data, actor=speaker.member)
        await self._remember(task, speaker)
        await self._undoable(speaker, task.id, {"op": "delete"})
        reply = self._confirm("Got it", task, speaker)
        if caveats := self._tasks.caveats(task):
            reply = replace(reply, text="\n".join([reply.text, *caveats]))
        public = speaker.in_channel and task.channel_ref == speaker.inbound.channel_ref
        if public:
            reply = replace(reply, fields={**reply.fields, "public": "1"})
        return [reply]

    async def _task_id(self, speaker: Speaker, ref: str) -> int:
        return (await self._task(ref, speaker)).id

    async def _subscribe(self, speaker: Speaker, ref: str, event: str) -> int:
        """Make an existing task also fire on ``event`` (its other triggers stay)."""
        task = await self._task(ref, speaker)
        part = {"kind": "event", "event": event, "timezone": task.timezone}
        current = task.schedule
        if current is None:
            schedule: dict[str, Any] = part
        elif current.get("kind") == "mixed":
            schedule = {**current, "parts": [*current["parts"], part]}
        else:
            schedule = {"kind": "mixed", "timezone": task.timezone, "parts": [current, part]}
        await self._tasks.update(task.id, {"schedule": schedule}, actor=speaker.member)
        return task.id

    async def _question_the_past(self, intent: Intent, speaker: Speaker) -> Reply | None:
        """A past instant is questioned, never silently moved or dropped."""
        now = self._said_at(speaker)
        zone = ZoneInfo(speaker.tz)
        said = speaker.inbound.text
        alt = intent.model_copy(deep=True)
        shown: datetime | None = None
        if intent.due is None and intent.schedule is None and _YESTERDAY.search(said):
            # "due yesterday" that the reading could not place: never dropped silently.
            rest = _PAST_DUE.sub("", said).strip(" ,")
            return await self._ask(
                speaker,
                "Yesterday has already passed — when is it due instead? "
                "E.g. 'today at 5pm' or 'tomorrow'.",
                rest,
            )
        if intent.schedule is not None and intent.schedule.kind == "once" and intent.schedule.at:
            at = intent.schedule.at
            yesterday = bool(_YESTERDAY.search(said))
            if yesterday:
                today = now.astimezone(zone).date()
                at = at - timedelta(days=(at.astimezone(zone).date() - today).days + 1)
                cleaned = _YESTERDAY.sub("", alt.title or "").strip(" ,")
                alt.title = re.sub(r"^(?:to|about)\s+", "", cleaned) or alt.title
                intent = intent.model_copy(update={"title": alt.title})
            if at <= now:
                shown = at
                # "yesterday" was most likely meant as "tomorrow"; else the next such time.
                new_at = at + timedelta(days=2 if yesterday else 1)
                while new_at <= now:
                    new_at += timedelta(days=1)
                assert alt.schedule is not None
                alt.schedule = alt.schedule.model_copy(update={"at": new_at})
                alt.next_runs = [new_at]
        elif intent.due is not None and intent.due <= now:
            shown = intent.due
            alt.due = intent.due + timedelta(days=1)
            while alt.due <= now:
                alt.due += timedelta(days=1)
        if shown is None:
            return None
        if (
            _TODAY.search(said)
            and not _CLOCK.search(said)
            and shown.astimezone(zone).date() == now.astimezone(zone).date()
        ):
            # "today" with no time, when the default hour has passed: today is still
            # a fine answer, it only lacks the time (never refused, never moved).
            return await self._ask(speaker, "What time today? E.g. 'at 5pm' or 'in 2 hours'.", said)
        first = (alt.schedule.at if alt.schedule and alt.schedule.at else alt.due) or now
        await self.memory.propose(
            workspace_id=speaker.workspace_id,
            place=speaker.place,
            person=speaker.person,
            proposal={
                "type": "create",
                "text": said,
                "intent": intent.model_dump(mode="json"),
                "alt": alt.model_dump(mode="json"),
            },
        )
        local = shown.astimezone(zone)
        when_text = formatting.when(shown, speaker.tz, now=now)
        if _YESTERDAY.search(said):
            when_text = f"yesterday {local:%H:%M}"
        return replies.question(
            f"{when_text} has already passed — did you mean "
            f"{formatting.when(first, speaker.tz, now=now)}? "
            "Reply 'yes' for that, or 'no' to keep it as written."
        )

    async def _dependency(self, name: str, speaker: Speaker) -> int:
        number = number_of(name)
        if number is not None:
            return number
        found = await find_by_words(
            self._tasks,
            name,
            workspace_id=speaker.workspace_id,
            visible=lambda t: self._may_see(t, speaker.member),
        )
        return found.id

    def _confirm(self, verb: str, task: TaskPublic, speaker: Speaker) -> Reply:
        now = self._clock.now()
        upcoming: list[datetime] = []
        if task.next_fire_at is not None and task.schedule is not None:
            upcoming = [task.next_fire_at, *later_runs(task, task.next_fire_at)]
        return replies.confirmation(
            say(verb, speaker.language), task, tz=speaker.tz, now=now, next_runs=upcoming
        )

    async def _undoable(self, speaker: Speaker, task_id: int, undo: dict[str, Any]) -> None:
        await self.memory.changed(
            workspace_id=speaker.workspace_id, person=speaker.person, task_id=task_id, undo=undo
        )

    # --- reading ------------------------------------------------------------------

    async def _visible(self, query: TaskQuery, speaker: Speaker) -> list[TaskPublic]:
        found = await self._tasks.query(
            query, workspace_id=speaker.workspace_id, actor=speaker.member
        )
        return [t for t in found if self._may_see(t, speaker.member)]

    async def _list(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        query, heading = list_query(
            intent, speaker.inbound.text, now=self._clock.now(), tz=speaker.tz
        )
        found = await self._visible(query, speaker)
        return [replies.task_list(heading, found, tz=speaker.tz, now=self._clock.now())]

    async def _history(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker, intent=intent, allow_done=True)
        await self._remember(task, speaker)
        runs: Sequence[Run] = []
        if self._runner is not None:
            runs = await self._runner.history(task.id, limit=10)
        if not runs:
            return [replies.text(f"#{task.id} '{task.title}' has not run yet.", task_id=task.id)]
        failed = sum(1 for r in runs if r.status == "failed")
        lines = [
            f"• {formatting.when(r.scheduled_for, speaker.tz)} — {r.status}"
            + (f" (attempt {r.attempt})" if r.attempt > 1 else "")
            + (f": {r.error.splitlines()[0][:200]}" if r.error else "")
            for r in runs
        ]
        head = f"Last {len(runs)} runs of #{task.id} '{task.title}' ({failed} failed):"
        return [replies.text("\n".join([head, *lines]), task_id=task.id)]

    async def _report(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        now = self._clock.now()
        week_ago = now - timedelta(days=7)
        done = await self._visible(TaskQuery(statuses=frozenset({TaskStatus.DONE})), speaker)
        done = [t for t in done if t.completed_at and t.completed_at >= week_ago]
        overdue = await self._visible(TaskQuery(overdue_at=now), speaker)
        open_ = await self._visible(TaskQuery(statuses=frozenset({TaskStatus.OPEN})), speaker)
        lines = [
            f"Report for the last 7 days: {len(done)} done, {len(open_)} open, "
            f"{len(overdue)} overdue."
        ]
        lines += [f"✓ #{t.id} {t.title}" for t in done[:10]]
        lines += [f"! #{t.id} {t.title} (overdue)" for t in overdue[:10]]
        return [replies.text("\n".join(lines))]

    async def _help(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        return [replies.help_reply()]

    async def _unknown(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        return [
            replies.text(
                say(
                    "Sorry, I didn't understand that. Say 'help' to see what I can do.",
                    speaker.language,
                )
            )
        ]

    # --- changing -------------------------------------------------------------------

    async def _complete(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(
            intent.task_ref, speaker, fired=True, intent=intent, allow_done=True
        )
        return await self._done(task.id, speaker)

    async def _done(self, task_id: int, speaker: Speaker, *, force: bool = False) -> list[Reply]:
        task = await self._tasks.get(task_id, workspace_id=speaker.workspace_id)
        if not self._may_see(task, speaker.member):
            raise NotFound(f"There is no task #{task_id} you can see.", hint="Say 'list'.")
        if task.status == TaskStatus.DELETED:
            raise InvalidInput(
                f"#{task.id} '{task.title}' was deleted.",
                hint=f"Say 'restore #{task.id}' to bring it back first.",
            )
        if task.status == TaskStatus.DONE:
            return [replies.text(f"#{task.id} '{task.title}' is already done.", task_id=task.id)]
        if not force and task.depends_on:
            waiting = []
            for pid in task.depends_on:
                before = await self._tasks.get(pid, workspace_id=speaker.workspace_id)
                if before.status in LIVE:
                    waiting.append(f"#{before.id} '{before.title}'")
            if waiting:
                await self.memory.propose(
                    workspace_id=speaker.workspace_id,
                    place=speaker.place,
                    person=speaker.person,
                    proposal={"type": "complete", "task": task.id},
                )
                return [
                    replies.question(
                        f"#{task.id} '{task.title}' waits for {', '.join(waiting)}, "
                        "which is still open. Mark it done anyway? (yes/no)"
                    )
                ]
        if (task.schedule or {}).get("kind") in _REPEATING and not force:
            # "done" on a repeating task is this time's: the series goes on.
            task = await self._tasks.occurrence_done(task_id, actor=speaker.member)
            await self._remember(task, speaker)
            coming = upcoming(task)
            shown = formatting.when(coming[0], speaker.tz, now=self._clock.now()) if coming else ""
            return [
                replies.text(
                    f"Done for this time — #{task.id} '{task.title}' repeats"
                    + (f", next {shown}" if shown else "")
                    + f". Say 'delete #{task.id}' to end it, or 'pause #{task.id}'.",
                    task_id=task.id,
                )
            ]
        task = await self._tasks.complete(task_id, actor=speaker.member)
        if self.workflow_talk is not None:
            await self.workflow_talk.done(task.id)  # release the steps that waited for it
        await self._remember(task, speaker)
        await self._undoable(speaker, task.id, {"op": "reopen"})
        return [replies.text(f"Done — #{task.id} '{task.title}'. Nice work.", task_id=task.id)]

    async def _update(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker, intent=intent)
        changes: dict[str, Any] = {}
        when = intent.due or (intent.schedule.at if intent.schedule else None)
        if intent.schedule is not None and intent.schedule.kind != "once":
            changes["schedule"] = to_spec(intent.schedule)
        elif when is not None:
            if when <= self._clock.now():
                return [
                    replies.question(
                        f"{formatting.when(when, speaker.tz)} has already passed — "
                        "when should it be instead?"
                    )
                ]
            kind = (task.schedule or {}).get("kind")
            if kind == "once":
                changes["schedule"] = {"kind": "once", "at": when, "timezone": speaker.tz}
            elif kind in _REPEATING and task.kind != TaskKind.TASK:
                # One time for a repeating reminder or job: ask rather than guess.
                shown = formatting.when(when, speaker.tz, now=self._clock.now())
                return [
                    replies.question(
                        f"#{task.id} '{task.title}' repeats. Say 'snooze #{task.id} until "
                        f"{shown}' to be reminded once more then, or give a new schedule "
                        f"(e.g. 'change #{task.id} to every weekday at 10')."
                    )
                ]
            else:
                changes["due"] = when
        if intent.assignees:
            changes["assignees"] = intent.assignees
        if intent.priority:
            changes["priority"] = intent.priority
        if intent.channel:
            changes["channel_ref"] = intent.channel
        if intent.title and "title" not in changes and not changes:
            changes["title"] = intent.title
        if not changes:
            return [
                replies.question(
                    f"What should I change about #{task.id} '{task.title}'? "
                    "E.g. 'move it to Thursday', 'assign it to @bob', 'make it urgent'."
                )
            ]
        before = undo_values(task, changes)
        updated = await self._tasks.update(task.id, changes, actor=speaker.member)
        await self._remember(updated, speaker)
        await self._undoable(speaker, task.id, {"op": "update", "values": before})
        return [self._confirm("Updated", updated, speaker)]

    async def _delete(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker, intent=intent, allow_done=True)
        deleted = await self._tasks.delete(task.id, actor=speaker.member)
        await self._remember(deleted, speaker)  # "restore it"
        await self._undoable(speaker, task.id, {"op": "restore"})
        return [
            Reply(
                text=f"Deleted #{deleted.id} '{deleted.title}'. "
                f"Say 'restore #{deleted.id}' to undo.",
                task_id=deleted.id,
                buttons=(Button("Restore", "task.restore", str(deleted.id)),),
            )
        ]

    async def _snooze(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker, fired=True, intent=intent)
        when = intent.schedule.at if intent.schedule and intent.schedule.at else None
        return await self._snooze_until(
            task.id, when or self._clock.now() + DEFAULT_SNOOZE, speaker
        )

    async def _snooze_until(self, task_id: int, when: datetime, speaker: Speaker) -> list[Reply]:
        current = await self._tasks.get(task_id, workspace_id=speaker.workspace_id)
        if not self._may_see(current, speaker.member):
            raise NotFound(f"There is no task #{task_id} you can see.", hint="Say 'list'.")
        now = self._clock.now()
        if (
            current.status == TaskStatus.OPEN
            and (current.schedule or {}).get("kind") == "once"
            and current.next_fire_at is not None
            and current.next_fire_at > now
            and when > now
        ):
            # Not fired yet: snoozing moves it (an extra run would make it fire twice),
            # and only later: a "snooze" never brings a reminder forward.
            due = formatting.when(current.next_fire_at, speaker.tz, now=now)
            if when <= current.next_fire_at:
                return [
                    replies.text(
                        f"#{current.id} '{current.title}' has not fired yet (it is due {due}), "
                        f"so there is nothing to snooze. Say 'move {current.id} to …' "
                        "to change its time.",
                        task_id=current.id,
                    )
                ]
            before = undo_values(current, {"schedule": None})
            moved = await self._tasks.update(
                task_id,
                {"schedule": {"kind": "once", "at": when, "timezone": current.timezone}},
                actor=speaker.member,
            )
            await self._remember(moved, speaker)
            await self._undoable(speaker, moved.id, {"op": "update", "values": before})
            shown = formatting.when(when, speaker.tz, now=now)
            return [
                replies.text(
                    f"#{moved.id} '{moved.title}' had not fired yet: moved it to {shown}.",
                    task_id=moved.id,
                )
            ]
        task = await self._runs.snooze(task_id, when, actor=speaker.member)
        await self._remember(task, speaker)
        shown = formatting.when(when, speaker.tz, now=self._clock.now())
        return [replies.text(f"Snoozed #{task.id} '{task.title}' until {shown}.", task_id=task.id)]

    async def _run(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker, intent=intent, allow_done=True)
        return await self._run_id(task.id, speaker)

    async def _run_id(self, task_id: int, speaker: Speaker) -> list[Reply]:
        task = await self._runs.run_now(task_id, actor=speaker.member)
        await self._remember(task, speaker)
        return [replies.text(f"Running #{task.id} '{task.title}' now.", task_id=task.id)]

    # --- wording ----------------------------------------------------------------------

    def _summary(self, intent: Intent, speaker: Speaker) -> str:
        words = intent.intent.value.replace("_", " ")
        parts = [words]
        if intent.title:
            parts.append(f"'{intent.title}'")
        if intent.task_ref:
            parts.append(f"task '{intent.task_ref}'")
        now = self._clock.now()
        if intent.next_runs:
            parts.append(formatting.when(intent.next_runs[0], speaker.tz, now=now))
        if intent.due:
            parts.append("due " + formatting.when(intent.due, speaker.tz, now=now))
        if intent.assignees:
            parts.append(
                "for " + ", ".join("you" if a == "me" else f"@{a}" for a in intent.assignees)
            )
        if intent.priority:
            parts.append(intent.priority)
        return " ".join(parts)


def _where(speaker: Speaker) -> dict[str, Any]:
    return {"workspace_id": speaker.workspace_id, "tz": speaker.tz}


async def _guarded(work: Awaitable[list[Reply]], what: str) -> list[Reply]:
    """Domain errors become their message; a bug costs one answer, not the chat surface.

    The details of an unexpected error go to the log, never into chat (they may
    hold data the reader should not see).
    """
    try:
        return await work
    except KairosError as exc:
        return [replies.error(exc.user_message())]
    except Exception:
        log.exception("conversation failed on %s", what)
        return [replies.error(UNEXPECTED)]
