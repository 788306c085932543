"""``ChatConversation``: intent → action on the task service or scheduler → reply.

Written once, platform-free: every chat surface hands it an ``Inbound`` and
renders the ``Reply`` objects it returns. Confirmations always say what Kairos
understood, in the speaker's time zone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot import formatting
from bot.console import thread_task
from bot.conversation import replies
from bot.conversation.context import place
from bot.conversation.listing import list_query
from bot.conversation.refs import AmbiguousTask, find_by_words, is_pronoun, number_of
from bot.conversation.requests import Request
from bot.conversation.requests import match as match_request
from bot.conversation.schedules import job_title
from core.enums import Platform, Priority, Role, TaskKind, TaskStatus
from core.errors import InvalidInput, KairosError, NotFound
from core.executors.registry import ExecutorRegistry, NoExecutor
from core.intents.model import Intent, IntentKind
from core.intents.specs import to_spec
from core.messages import Button, Inbound, Reply, ReplyKind
from core.models import Member, Run, Task, TaskPublic
from core.ports import Clock, IntentParser
from core.services.conversation import ConversationMemory
from core.services.members import MemberService
from core.services.runs import RunService
from core.services.tasks import TaskService
from core.store import SqlStore, TaskQuery
from core.triggers import next_runs

log = logging.getLogger(__name__)

_YES = frozenset(
    {"yes", "y", "yep", "yeah", "ok", "okay", "sure", "do it", "go ahead", "confirm", "yes please"}
)
_NO = frozenset({"no", "n", "nope", "cancel", "never mind", "nevermind", "don't", "stop"})
_KIND_OF = {
    IntentKind.CREATE_REMINDER: TaskKind.REMINDER,
    IntentKind.CREATE_TASK: TaskKind.TASK,
    IntentKind.SCHEDULE_JOB: TaskKind.JOB,
}
_CREATES = frozenset(_KIND_OF)
_YESTERDAY = re.compile(r"\byesterday\b", re.IGNORECASE)
UNEXPECTED = "Sorry, something went wrong on my side; it has been logged. Please try again."
#: Snooze length when the person gives none ("snooze", "later" without a time).
DEFAULT_SNOOZE = timedelta(minutes=20)
_LIVE = frozenset({TaskStatus.OPEN, TaskStatus.PAUSED})
#: How late a missed reminder is still delivered after downtime (then it is skipped).
REMINDER_GRACE_SECONDS = 24 * 3600


class Runner(Protocol):
    """The scheduler operations the conversation uses (``core.scheduler.Scheduler``)."""

    async def run_now(self, task_id: int) -> object: ...

    async def run_at(self, task_id: int, when: datetime) -> object: ...

    async def history(self, task_id: int, *, limit: int = 50) -> Sequence[Run]: ...


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who is talking, where, and in which time zone."""

    member: Member
    workspace_id: int
    tz: str
    place: str
    inbound: Inbound

    @property
    def person(self) -> str:
        return self.member.platform_user_id

    @property
    def in_channel(self) -> bool:
        return not self.inbound.is_direct and self.inbound.channel_ref is not None


class Asked(Exception):
    """Resolving a task needs the person to pick or confirm first: these replies ask."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


Handler = Callable[[Intent, Speaker], Awaitable[list[Reply]]]


class ChatConversation:
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
        executors: ExecutorRegistry | None = None,
    ) -> None:
        self._executors = executors
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

    # --- the Conversation interface -------------------------------------------------

    async def handle(self, inbound: Inbound) -> list[Reply]:
        return await _guarded(self._handle(inbound), "a message")

    async def press(self, inbound: Inbound, *, action: str, value: str) -> list[Reply]:
        return await _guarded(self._press(inbound, action, value), f"the button {action}")

    async def _handle(self, inbound: Inbound) -> list[Reply]:
        speaker = await self._speaker(inbound)
        out = await self._handle_as(speaker, inbound.text.strip())
        return [self._placed(r, speaker) for r in out]

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
        if proposal is not None:
            if said in _YES:
                return await self._accept(proposal, speaker, yes=True)
            if said in _NO or said in {"keep it", "as written"}:
                return await self._accept(proposal, speaker, yes=False)
        if proposal is None and said in _YES | _NO:
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
        request = match_request(text)
        if request is not None:
            return await self._request(request, speaker)
        intent, said = self._understand(text, speaker, question)
        past = _only_past(intent, self._clock.now())
        if past:
            # A time that has passed gets a proper question (with a suggestion).
            intent = intent.model_copy(update={"clarification": None})
            speaker = replace(speaker, inbound=replace(speaker.inbound, text=said))
        if intent.clarification:
            return [await self._ask(speaker, intent.clarification, said)]
        if (
            not past
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
        now = self._clock.now()
        alone = self._parser.parse(text, now=now, tz=speaker.tz, user="me")
        if question is None or question.get("type") != "complete" or _self_contained(alone):
            return alone, text
        asked = str(question.get("text", ""))
        doubtful: tuple[Intent, str] | None = None
        for candidate in _completions(asked, text):
            completed = self._parser.parse(candidate, now=now, tz=speaker.tz, user="me")
            if completed.intent is IntentKind.UNKNOWN:
                continue
            if not completed.clarification or _only_past(completed, now):
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
            question = await self.memory.take_question(
                workspace_id=speaker.workspace_id, place=speaker.place, person=speaker.person
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
        return Speaker(
            member=member, workspace_id=workspace.id, tz=tz, place=where, inbound=inbound
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
        if not task.private:
            return True
        return task.created_by == member.id or member.platform_user_id in task.assignees

    async def _thread_task(self, speaker: Speaker) -> TaskPublic | None:
        ref = speaker.inbound.thread_ref
        if not ref:
            return None
        found = await self._tasks.query(
            TaskQuery(thread_ref=ref), workspace_id=speaker.workspace_id
        )
        if found:
            return found[0]
        number = thread_task(ref)
        if number is None:
            return None
        try:
            return await self._tasks.get(number, workspace_id=speaker.workspace_id)
        except NotFound:
            return None

    async def _task(
        self,
        ref: str | None,
        speaker: Speaker,
        *,
        fired: bool = False,
        intent: Intent | None = None,
        allow_done: bool = False,
    ) -> TaskPublic:
        """The task a message refers to: its thread's, a number, words, or the last one.

        Never silently an old one: a done or deleted task is refused with what
        to say instead; when nothing identifies a task, the person is asked which.
        """
        ws = speaker.workspace_id
        task: TaskPublic | None = None
        if is_pronoun(ref):
            task = await self._thread_task(speaker)
            if task is None:
                key: dict[str, Any] = {
                    "workspace_id": ws,
                    "place": speaker.place,
                    "person": speaker.person,
                }
                last = await self.memory.last_fired(**key) if fired else None
                if last is not None:
                    allow_done = True  # snoozing the reminder that just fired
                last = last or await self.memory.last_discussed(**key)
                if last is None:
                    raise Asked(await self._which(speaker, intent))
                task = await self._tasks.get(last, workspace_id=ws)
        else:
            assert ref is not None
            number = number_of(ref)
            if number is not None:
                task = await self._tasks.get(number, workspace_id=ws)
            else:
                try:
                    task = await find_by_words(
                        self._tasks,
                        ref,
                        workspace_id=ws,
                        visible=lambda t: self._may_see(t, speaker.member),
                    )
                except AmbiguousTask as many:
                    raise Asked(
                        await self._which(speaker, intent, many.matches, words=ref)
                    ) from None
        if not self._may_see(task, speaker.member):
            raise NotFound(f"There is no task #{task.id} you can see.", hint="Say 'list'.")
        if task.status == TaskStatus.DELETED:
            raise InvalidInput(
                f"#{task.id} '{task.title}' was deleted.",
                hint=f"Say 'restore #{task.id}' to bring it back first.",
            )
        named = not is_pronoun(ref) or speaker.inbound.thread_ref is not None
        if fired and named and task.kind == TaskKind.REMINDER:
            allow_done = True  # snoozing a reminder named or in its thread, even if it fired
        if task.status == TaskStatus.DONE and not allow_done:
            raise Asked(
                Reply(
                    text=f"#{task.id} '{task.title}' is already done. Reopen it first?",
                    task_id=task.id,
                    buttons=(Button("Reopen", "task.reopen", str(task.id)),),
                )
            )
        return task

    async def _which(
        self,
        speaker: Speaker,
        intent: Intent | None,
        options: Sequence[TaskPublic] | None = None,
        *,
        words: str | None = None,
    ) -> Reply:
        """Ask which task is meant, with buttons for the likely ones."""
        if options is None:
            mine = await self._tasks.query(
                TaskQuery(statuses=_LIVE, limit=50), workspace_id=speaker.workspace_id
            )
            options = [
                t
                for t in mine
                if self._may_see(t, speaker.member)
                and (t.created_by == speaker.member.id or speaker.person in t.assignees)
            ]
            options = sorted(options, key=lambda t: t.updated_at, reverse=True)
        options = list(options)[:5]
        if intent is not None:
            await self.memory.ask(
                workspace_id=speaker.workspace_id,
                place=speaker.place,
                person=speaker.person,
                question={
                    "type": "which",
                    "intent": intent.model_dump(mode="json"),
                    "options": [t.id for t in options],
                },
            )
        head = f"Which task do you mean by '{words}'?" if words else "Which task do you mean?"
        if not options:
            return replies.question(
                "I'm not sure which task you mean, and you have no open tasks. "
                "Name it by number (e.g. 'done #12') or say 'list'."
            )
        listed = ", ".join(f"#{t.id} '{t.title}'" for t in options)
        return Reply(
            text=f"{head} {listed}? Reply with its number.",
            kind=ReplyKind.QUESTION,
            buttons=tuple(
                Button(f"#{t.id} {t.title}"[:40], "task.pick", str(t.id)) for t in options
            ),
        )

    async def _pick(
        self, question: dict[str, Any], text: str, speaker: Speaker
    ) -> list[Reply] | None:
        """The answer to "which task?": a number, or words naming one of the options."""
        options = [int(i) for i in question.get("options", [])]
        number = number_of(text.strip().rstrip(".!?"))
        if number is None:
            for task_id in options:
                task = await self._tasks.get(task_id, workspace_id=speaker.workspace_id)
                if text.strip().lower() and text.strip().lower() in task.title.lower():
                    number = task_id
                    break
        if number is None:
            return None
        intent = Intent.model_validate({**question["intent"], "task_ref": str(number)})
        return await self._act(intent, speaker)

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
        if intent.schedule is not None and intent.schedule.kind == "event":
            return [
                replies.error(
                    "I can't react to events such as a task being done yet, so nothing "
                    "was created. Give me a time instead (e.g. 'remind #eng tomorrow at 10 "
                    "to …'), or mark the task done and tell people yourself."
                )
            ]
        if kind is TaskKind.JOB and self._executors is not None:
            # Never confirm a job that cannot run: say what is missing instead.
            probe = Task(kind=kind, title="job", workspace_id=0, action=intent.action)
            try:
                self._executors.for_task(probe)
            except NoExecutor:
                what = (intent.action or {}).get("type", "this kind of")
                return [
                    replies.error(
                        f"I can't run {what} jobs here: no executor for '{what}' is "
                        "configured, so nothing was created. Ask an admin to enable it."
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
            "private": speaker.inbound.is_direct and not intent.channel,
        }
        if kind is TaskKind.REMINDER:
            # After downtime a reminder is better late (saying so) than never.
            data["misfire_grace_seconds"] = REMINDER_GRACE_SECONDS
        personal = for_me and (not intent.assignees or intent.assignees == ["me"])
        if speaker.in_channel and not intent.channel and not personal:
            data["channel_ref"] = speaker.inbound.channel_ref
            if speaker.inbound.thread_ref:
                data["thread_ref"] = speaker.inbound.thread_ref
        task = await self._tasks.create(data, actor=speaker.member)
        await self._remember(task, speaker)
        await self._undoable(speaker, task.id, {"op": "delete"})
        reply = self._confirm("Got it", task, speaker)
        public = speaker.in_channel and task.channel_ref == speaker.inbound.channel_ref
        if public:
            reply = replace(reply, fields={**reply.fields, "public": "1"})
        return [reply]

    async def _question_the_past(self, intent: Intent, speaker: Speaker) -> Reply | None:
        """A past instant is questioned, never silently moved or dropped."""
        now = self._clock.now()
        zone = ZoneInfo(speaker.tz)
        said = speaker.inbound.text
        alt = intent.model_copy(deep=True)
        shown: datetime | None = None
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
            upcoming = [task.next_fire_at, *_later_runs(task, task.next_fire_at)]
        return replies.confirmation(verb, task, tz=speaker.tz, now=now, next_runs=upcoming)

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
        return [replies.text("Sorry, I didn't understand that. Say 'help' to see what I can do.")]

    # --- changing -------------------------------------------------------------------

    async def _complete(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker, intent=intent, allow_done=True)
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
                if before.status in _LIVE:
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
        task = await self._tasks.complete(task_id, actor=speaker.member)
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
            if task.schedule is not None and task.schedule.get("kind") == "once":
                changes["schedule"] = {"kind": "once", "at": when, "timezone": speaker.tz}
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
        before = _undo_values(task, changes)
        updated = await self._tasks.update(task.id, changes, actor=speaker.member)
        await self._remember(updated, speaker)
        await self._undoable(speaker, task.id, {"op": "update", "values": before})
        return [self._confirm("Updated", updated, speaker)]

    async def _delete(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker, intent=intent, allow_done=True)
        deleted = await self._tasks.delete(task.id, actor=speaker.member)
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
            before = _undo_values(current, {"schedule": None})
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

    # --- the requests the parser has no intent for ----------------------------------

    async def _request(self, request: Request, speaker: Speaker) -> list[Reply]:
        simple = await self._personal(request, speaker)
        if simple is not None:
            return simple
        try:
            allow = request.kind in {"restore", "reopen", "show", "who", "next_run", "how_long"}
            if request.kind == "restore":
                number = number_of(request.ref or "")
                if number is None:
                    raise InvalidInput("Which task should I restore?", hint="Say 'restore #3'.")
                task = await self._tasks.get(number, workspace_id=speaker.workspace_id)
                if not self._may_see(task, speaker.member):
                    raise NotFound(f"There is no task #{number} you can see.")
            else:
                task = await self._task(request.ref, speaker, allow_done=allow)
        except Asked as asked:
            return [asked.reply]
        return await self._on(request, task.id, speaker)

    async def _personal(self, request: Request, speaker: Speaker) -> list[Reply] | None:
        """Requests about the speaker or the workspace rather than one task."""
        kind, member = request.kind, speaker.member
        if kind == "set_tz":
            updated = await self._members.set_timezone(member, request.arg or "")
            return [replies.text(f"Your time zone is now {updated.timezone}.")]
        if kind == "role":
            updated = await self._members.set_role(
                member, request.ref or "", Role(request.arg or "member")
            )
            return [replies.text(f"@{updated.platform_user_id} is now {updated.role}.")]
        if kind == "search":
            found = await self._tasks.search(
                request.arg or "",
                workspace_id=speaker.workspace_id,
                statuses=_LIVE | {TaskStatus.DONE},
            )
            found = [t for t in found if self._may_see(t, speaker.member)]
            return [
                replies.task_list(
                    f"Tasks matching '{request.arg}'", found, tz=speaker.tz, now=self._clock.now()
                )
            ]
        if kind == "next_mine":
            mine = await self._visible(TaskQuery(statuses=frozenset({TaskStatus.OPEN})), speaker)
            mine = [t for t in mine if t.next_fire_at and speaker.person in t.assignees]
            if not mine:
                return [replies.text("You have no reminders coming up.")]
            first = min(mine, key=lambda t: t.next_fire_at or self._clock.now())
            assert first.next_fire_at is not None
            shown = formatting.when(first.next_fire_at, speaker.tz, now=self._clock.now())
            return [
                replies.text(
                    f"Your next reminder: #{first.id} '{first.title}', {shown}.", task_id=first.id
                )
            ]
        if kind == "undo":
            return await self._undo(speaker)
        if kind == "delete_all":
            mine = await self._visible(TaskQuery(statuses=_LIVE | {TaskStatus.DONE}), speaker)
            mine = [t for t in mine if t.created_by == member.id]
            if not mine:
                return [replies.text("You have no tasks to delete.")]
            await self.memory.propose(
                workspace_id=speaker.workspace_id,
                place=speaker.place,
                person=speaker.person,
                proposal={"type": "delete_all", "tasks": [t.id for t in mine]},
            )
            return [
                replies.question(
                    f"Delete all {len(mine)} of your tasks "
                    f"({', '.join(f'#{t.id}' for t in mine[:10])})? "
                    "Reply 'yes' to delete them, 'no' to keep them."
                )
            ]
        return None

    async def _on(self, request: Request, task_id: int, speaker: Speaker) -> list[Reply]:
        kind, actor, ws = request.kind, speaker.member, speaker.workspace_id
        now = self._clock.now()
        if kind == "restore":
            task = await self._tasks.restore(task_id, actor=actor)
            await self._remember(task, speaker)
            return [
                replies.text(
                    f"Restored #{task.id} '{task.title}' ({task.status}).", task_id=task.id
                )
            ]
        if kind == "reopen":
            task = await self._tasks.reopen(task_id, actor=actor)
            await self._remember(task, speaker)
            return [self._confirm("Reopened", task, speaker)]
        if kind == "pause":
            task = await self._tasks.pause(task_id, actor=actor)
            await self._remember(task, speaker)
            await self._undoable(speaker, task.id, {"op": "resume"})
            return [
                replies.text(
                    f"Paused #{task.id} '{task.title}': it won't fire until you "
                    f"say 'resume #{task.id}'.",
                    task_id=task.id,
                )
            ]
        if kind == "resume":
            task = await self._tasks.resume(task_id, actor=actor)
            await self._remember(task, speaker)
            return [self._confirm("Resumed", task, speaker)]
        if kind == "rename":
            current = await self._tasks.get(task_id, workspace_id=ws)
            task = await self._tasks.update(task_id, {"title": request.arg}, actor=actor)
            await self._remember(task, speaker)
            await self._undoable(
                speaker, task.id, {"op": "update", "values": {"title": current.title}}
            )
            return [replies.text(f"Renamed #{task.id} to '{task.title}'.", task_id=task.id)]
        if kind == "unassign":
            current = await self._tasks.get(task_id, workspace_id=ws)
            who = (request.arg or "").lstrip("@")
            if who.lower() == "me":
                who = speaker.person
            if who not in current.assignees:
                return [
                    replies.text(
                        f"@{who} is not assigned to #{current.id} '{current.title}'.",
                        task_id=current.id,
                    )
                ]
            rest = [a for a in current.assignees if a != who]
            task = await self._tasks.update(task_id, {"assignees": rest}, actor=actor)
            await self._remember(task, speaker)
            await self._undoable(
                speaker, task.id, {"op": "update", "values": {"assignees": current.assignees}}
            )
            return [
                replies.text(f"Removed @{who} from #{task.id} '{task.title}'.", task_id=task.id)
            ]
        if kind == "comment":
            task = await self._tasks.comment(task_id, request.arg or "", actor=actor)
            await self._remember(task, speaker)
            return [
                replies.text(f"Added your comment to #{task.id} '{task.title}'.", task_id=task.id)
            ]
        if kind == "retry":
            times = int(request.arg or "1")
            policy = {"max_attempts": times + 1}
            task = await self._tasks.update(task_id, {"retry_policy": policy}, actor=actor)
            await self._remember(task, speaker)
            return [
                replies.text(
                    f"#{task.id} '{task.title}' will be retried up to {times} "
                    f"time(s) when a run fails.",
                    task_id=task.id,
                )
            ]
        task = await self._tasks.get(task_id, workspace_id=ws)
        await self._remember(task, speaker)
        if kind == "show":
            lines = [replies.describe(task, tz=speaker.tz, now=now, next_runs=_upcoming(task))]
            lines.append(f"status {task.status}" + (", private" if task.private else ""))
            lines += [f"💬 {c}" for c in await self._tasks.comments(task.id, workspace_id=ws)]
            return [replies.text("\n".join(lines), task_id=task.id)]
        if kind == "who":
            if not task.assignees:
                return [
                    replies.text(
                        f"Nobody is assigned to #{task.id} '{task.title}'.", task_id=task.id
                    )
                ]
            people = ", ".join(f"@{a}" for a in task.assignees)
            return [replies.text(f"On #{task.id} '{task.title}': {people}.", task_id=task.id)]
        if kind == "next_run":
            upcoming = _upcoming(task)
            if not upcoming:
                why = (
                    "it is " + str(task.status)
                    if task.status != TaskStatus.OPEN
                    else ("it has no schedule")
                )
                return [
                    replies.text(
                        f"#{task.id} '{task.title}' has no next run: {why}.", task_id=task.id
                    )
                ]
            return [
                replies.text(
                    f"Next run of #{task.id} '{task.title}': "
                    f"{formatting.when(upcoming[0], speaker.tz, now=now)}.",
                    task_id=task.id,
                )
            ]
        if kind == "how_long":
            return [
                replies.text(
                    f"I can't estimate how long #{task.id} '{task.title}' will take yet: "
                    "duration estimates are not available. Say 'show the last runs of "
                    f"{task.id}' to see how long past runs took.",
                    task_id=task.id,
                )
            ]
        return [replies.error("I can't do that yet.")]

    async def _undo(self, speaker: Speaker) -> list[Reply]:
        last = await self.memory.take_change(
            workspace_id=speaker.workspace_id, person=speaker.person
        )
        if last is None or last[0] is None or last[1] is None:
            return [replies.text("There is nothing of yours to undo from the last 10 minutes.")]
        task_id, undo = last[0], last[1]
        op, actor = undo.get("op"), speaker.member
        if op == "delete":
            task = await self._tasks.delete(task_id, actor=actor)
            return [
                replies.text(
                    f"Undone: #{task.id} '{task.title}' is deleted again.", task_id=task.id
                )
            ]
        if op == "restore":
            task = await self._tasks.restore(task_id, actor=actor)
        elif op == "reopen":
            task = await self._tasks.reopen(task_id, actor=actor)
        elif op == "resume":
            task = await self._tasks.resume(task_id, actor=actor)
        else:
            task = await self._tasks.update(task_id, dict(undo.get("values") or {}), actor=actor)
        return [
            replies.text(f"Undone — #{task.id} '{task.title}' is back as it was.", task_id=task.id)
        ]

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


def _only_past(intent: Intent, now: datetime) -> bool:
    """Whether a new task's only problem is that its time has already passed."""
    if intent.intent not in _CREATES:
        return False
    at = intent.schedule.at if intent.schedule is not None else None
    return (at is not None and at <= now) or (intent.due is not None and intent.due <= now)


def _self_contained(intent: Intent) -> bool:
    """Whether a message is a whole command on its own (not an answer to a question)."""
    if intent.intent in (IntentKind.UNKNOWN, IntentKind.SNOOZE):
        return False
    if intent.intent in _CREATES:
        return bool(intent.title)
    return not is_pronoun(intent.task_ref) or intent.intent in (
        IntentKind.LIST_TASKS,
        IntentKind.HELP,
        IntentKind.REPORT,
    )


def _undo_values(task: TaskPublic, changes: dict[str, Any]) -> dict[str, Any]:
    """The current values of the fields ``changes`` touches (what undo puts back)."""
    out: dict[str, Any] = {}
    for name in changes:
        value = getattr(task, name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _upcoming(task: TaskPublic) -> list[datetime]:
    if task.status != TaskStatus.OPEN or not task.enabled or task.next_fire_at is None:
        return []
    return [task.next_fire_at, *_later_runs(task, task.next_fire_at)]


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


def _completions(asked: str, answer: str) -> list[str]:
    """Ways an answer completes what was said before the question.

    An answer that repeats a word of the original replaces it ("move it to
    Thursday" + "next Thursday" → "move it to next Thursday"); otherwise the
    answer adds what was missing ("remind me to X" + "at 4pm").
    """
    words = asked.split()
    shared = {w.lower() for w in answer.split()} & {w.lower() for w in words}
    candidates = []
    for i, word in enumerate(words):
        if word.lower() in shared:
            candidates.append(" ".join([*words[:i], answer, *words[i + 1 :]]))
    return [*candidates, f"{asked} {answer}"]


def _later_runs(task: TaskPublic, first: datetime) -> list[datetime]:
    """The two fires after ``first``, for confirmations of recurring tasks."""
    from core.schedule import parse_schedule

    try:
        return next_runs(parse_schedule(task.schedule), first, 2)
    except KairosError:
        return []
