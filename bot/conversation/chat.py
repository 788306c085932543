"""``ChatConversation``: intent → action on the task service or scheduler → reply.

Written once, platform-free: every chat surface hands it an ``Inbound`` and
renders the ``Reply`` objects it returns. Confirmations always say what Kairos
understood, in the speaker's time zone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot import formatting
from bot.conversation import replies
from bot.conversation.context import ConversationContext, place
from bot.conversation.history import RunsTalk
from bot.conversation.listing import list_query
from bot.conversation.refs import find_by_words, is_pronoun, number_of
from bot.conversation.schedules import job_title
from core.enums import Platform, Priority, TaskKind, TaskStatus
from core.errors import InvalidInput, KairosError, NotFound
from core.intents.model import Intent, IntentKind
from core.intents.specs import to_spec
from core.messages import Inbound, Reply
from core.models import Member, Run, TaskPublic
from core.ports import Clock, IntentParser
from core.services.tasks import TaskService
from core.store import SqlStore, TaskQuery
from core.triggers import next_runs

log = logging.getLogger(__name__)

_YES = frozenset({"yes", "y", "yep", "yeah", "ok", "okay", "sure", "do it", "go ahead", "confirm"})
_KIND_OF = {
    IntentKind.CREATE_REMINDER: TaskKind.REMINDER,
    IntentKind.CREATE_TASK: TaskKind.TASK,
    IntentKind.SCHEDULE_JOB: TaskKind.JOB,
}
UNEXPECTED = "Sorry, something went wrong on my side; it has been logged. Please try again."
#: Snooze length when the person gives none ("snooze", "later" without a time).
DEFAULT_SNOOZE = timedelta(minutes=20)


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
        context: ConversationContext | None = None,
        default_timezone: str = "UTC",
        confidence_threshold: float = 0.6,
        runs_talk: RunsTalk | None = None,
    ) -> None:
        self._runs_talk = runs_talk
        self._store = store
        self._tasks = tasks
        self._parser = parser
        self._clock = clock
        self._runner = runner
        self.context = context or ConversationContext()
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
        text = inbound.text.strip()
        proposal = self.context.take_proposal(
            workspace_id=speaker.workspace_id, place=speaker.place
        )
        if proposal is not None and text.lower().rstrip("!.") in _YES:
            return await self._act(proposal, speaker)
        if self._runs_talk and (got := await self._runs_talk.answer(text, **_where(speaker))):
            return got
        intent = self._understand(text, speaker)
        if intent.clarification:
            return [self._ask(speaker, intent.clarification)]
        if intent.intent not in (IntentKind.UNKNOWN, IntentKind.HELP) and (
            intent.confidence < self._threshold
        ):
            self.context.propose(
                workspace_id=speaker.workspace_id, place=speaker.place, intent=intent
            )
            return [
                replies.question(
                    f"Did you mean: {self._summary(intent, speaker)}? "
                    "Reply 'yes' to go ahead, or say it another way."
                )
            ]
        return await self._act(intent, speaker)

    def _understand(self, text: str, speaker: Speaker) -> Intent:
        """Parse ``text``; right after a question, first as the answer completing it."""
        asked = self.context.take_asked(workspace_id=speaker.workspace_id, place=speaker.place)
        now = self._clock.now()
        if asked is not None:
            for candidate in _completions(asked, text):
                completed = self._parser.parse(candidate, now=now, tz=speaker.tz, user="me")
                if completed.intent is not IntentKind.UNKNOWN and not completed.clarification:
                    return completed
        return self._parser.parse(text, now=now, tz=speaker.tz, user="me")

    def _ask(self, speaker: Speaker, question: str) -> Reply:
        """Ask back, remembering what was said so that the answer can complete it."""
        self.context.asked(
            workspace_id=speaker.workspace_id,
            place=speaker.place,
            text=speaker.inbound.text.strip(),
        )
        return replies.question(question)

    async def _press(self, inbound: Inbound, action: str, value: str) -> list[Reply]:
        speaker = await self._speaker(inbound)
        if action == "run.log" and self._runs_talk and value.isdigit():
            return await self._runs_talk.press(int(value), **_where(speaker))
        task_ref, _, arg = value.partition(":")
        try:
            task_id = int(task_ref)
            if action == "task.done":
                return await self._done(task_id, speaker)
            if action == "task.snooze":
                now = self._clock.now()
                when = (
                    formatting.tomorrow_morning(now, speaker.tz)
                    if arg == "tomorrow"
                    else now + (timedelta(minutes=int(arg)) if arg else DEFAULT_SNOOZE)
                )
                return await self._snooze_until(task_id, when, speaker)
            if action == "task.run":
                return await self._run_id(task_id, speaker)
        except ValueError:
            return [replies.error(f"The button value {value!r} is not valid.")]
        return [replies.error(f"I don't know the button '{action}'.")]

    # --- dispatch ---------------------------------------------------------------

    async def _act(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        return await self._handlers[intent.intent](intent, speaker)

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

    def _remember(self, task: TaskPublic, speaker: Speaker) -> None:
        self.context.discussed(
            workspace_id=speaker.workspace_id, place=speaker.place, task_id=task.id
        )

    async def _task(self, ref: str | None, speaker: Speaker, *, fired: bool = False) -> TaskPublic:
        """The task a message refers to: its thread's, a number, words, or the last one."""
        ws = speaker.workspace_id
        if is_pronoun(ref):
            inbound = speaker.inbound
            if inbound.thread_ref:
                found = await self._tasks.query(
                    TaskQuery(thread_ref=inbound.thread_ref), workspace_id=ws
                )
                if found:
                    return found[0]
            last = self.context.last_fired(workspace_id=ws, place=speaker.place) if fired else None
            last = last or self.context.last_discussed(workspace_id=ws, place=speaker.place)
            if last is None:
                raise InvalidInput(
                    "I'm not sure which task you mean.",
                    hint="Reply in the task's thread, or name it by number (e.g. 'done #12').",
                )
            return await self._tasks.get(last, workspace_id=ws)
        assert ref is not None
        number = number_of(ref)
        if number is not None:
            return await self._tasks.get(number, workspace_id=ws)
        return await find_by_words(self._tasks, ref, workspace_id=ws)

    # --- creating -----------------------------------------------------------------

    async def _create(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        kind = _KIND_OF[intent.intent]
        if kind is TaskKind.REMINDER and intent.schedule is None:
            return [
                self._ask(
                    speaker,
                    f"When should I remind you{' to ' + intent.title if intent.title else ''}? "
                    "E.g. 'tomorrow at 3pm' or 'every Monday at 9'.",
                )
            ]
        if kind is TaskKind.JOB and intent.schedule is None:
            return [self._ask(speaker, "When should this job run? E.g. 'every night at 2'.")]
        title = job_title(intent) if kind is TaskKind.JOB else intent.title
        depends = [await self._dependency(name, speaker) for name in intent.depends_on]
        data: dict[str, Any] = {
            "kind": kind,
            "title": title,
            "timezone": speaker.tz,
            "due": intent.due,
            "schedule": to_spec(intent.schedule) if intent.schedule else None,
            "action": intent.action,
            "priority": intent.priority or Priority.NORMAL,
            "assignees": intent.assignees or (["me"] if kind is TaskKind.REMINDER else []),
            "channel_ref": intent.channel,
            "depends_on": depends,
        }
        if speaker.inbound.thread_ref and not intent.channel:
            data["channel_ref"] = speaker.inbound.channel_ref
            data["thread_ref"] = speaker.inbound.thread_ref
        task = await self._tasks.create(data, actor=speaker.member)
        self._remember(task, speaker)
        return [self._confirm("Got it", task, speaker)]

    async def _dependency(self, name: str, speaker: Speaker) -> int:
        number = number_of(name)
        if number is not None:
            return number
        return (await find_by_words(self._tasks, name, workspace_id=speaker.workspace_id)).id

    def _confirm(self, verb: str, task: TaskPublic, speaker: Speaker) -> Reply:
        now = self._clock.now()
        upcoming: list[datetime] = []
        if task.next_fire_at is not None and task.schedule is not None:
            upcoming = [task.next_fire_at, *_later_runs(task, task.next_fire_at)]
        return replies.confirmation(verb, task, tz=speaker.tz, now=now, next_runs=upcoming)

    # --- reading ------------------------------------------------------------------

    async def _list(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        query, heading = list_query(
            intent, speaker.inbound.text, now=self._clock.now(), tz=speaker.tz
        )
        found = await self._tasks.query(
            query, workspace_id=speaker.workspace_id, actor=speaker.member
        )
        return [replies.task_list(heading, found, tz=speaker.tz, now=self._clock.now())]

    async def _history(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker)
        self._remember(task, speaker)
        runs: Sequence[Run] = []
        if self._runner is not None:
            runs = await self._runner.history(task.id, limit=10)
        if not runs:
            return [replies.text(f"#{task.id} '{task.title}' has not run yet.")]
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
        ws = speaker.workspace_id
        done = await self._tasks.query(
            TaskQuery(statuses=frozenset({TaskStatus.DONE})), workspace_id=ws
        )
        done = [t for t in done if t.completed_at and t.completed_at >= week_ago]
        overdue = await self._tasks.query(TaskQuery(overdue_at=now), workspace_id=ws)
        open_ = await self._tasks.query(
            TaskQuery(statuses=frozenset({TaskStatus.OPEN})), workspace_id=ws
        )
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
        task = await self._task(intent.task_ref, speaker)
        return await self._done(task.id, speaker)

    async def _done(self, task_id: int, speaker: Speaker) -> list[Reply]:
        task = await self._tasks.complete(task_id, actor=speaker.member)
        self._remember(task, speaker)
        return [replies.text(f"Done — #{task.id} '{task.title}'. Nice work.", task_id=task.id)]

    async def _update(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker)
        changes: dict[str, Any] = {}
        when = intent.due or (intent.schedule.at if intent.schedule else None)
        if intent.schedule is not None and intent.schedule.kind != "once":
            changes["schedule"] = to_spec(intent.schedule)
        elif when is not None:
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
        if not changes:
            return [
                replies.question(
                    f"What should I change about #{task.id} '{task.title}'? "
                    "E.g. 'move it to Thursday', 'assign it to @bob', 'make it urgent'."
                )
            ]
        updated = await self._tasks.update(task.id, changes, actor=speaker.member)
        self._remember(updated, speaker)
        return [self._confirm("Updated", updated, speaker)]

    async def _delete(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker)
        deleted = await self._tasks.delete(task.id, actor=speaker.member)
        return [
            replies.text(
                f"Deleted #{deleted.id} '{deleted.title}'. Say 'restore #{deleted.id}' to undo.",
                task_id=deleted.id,
            )
        ]

    async def _snooze(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker, fired=True)
        when = intent.schedule.at if intent.schedule and intent.schedule.at else None
        return await self._snooze_until(
            task.id, when or self._clock.now() + DEFAULT_SNOOZE, speaker
        )

    async def _snooze_until(self, task_id: int, when: datetime, speaker: Speaker) -> list[Reply]:
        task = await self._tasks.get(task_id, workspace_id=speaker.workspace_id)
        if task.status == TaskStatus.DELETED:
            raise NotFound(f"Task #{task_id} was deleted.")
        if self._runner is None:
            raise InvalidInput("Snoozing needs the scheduler, which is not running here.")
        await self._runner.run_at(task.id, when)
        self._remember(task, speaker)
        shown = formatting.when(when, speaker.tz, now=self._clock.now())
        return [replies.text(f"Snoozed #{task.id} '{task.title}' until {shown}.", task_id=task.id)]

    async def _run(self, intent: Intent, speaker: Speaker) -> list[Reply]:
        task = await self._task(intent.task_ref, speaker)
        return await self._run_id(task.id, speaker)

    async def _run_id(self, task_id: int, speaker: Speaker) -> list[Reply]:
        task = await self._tasks.get(task_id, workspace_id=speaker.workspace_id)
        if self._runner is None:
            raise InvalidInput("Running tasks needs the scheduler, which is not running here.")
        await self._runner.run_now(task.id)
        self._remember(task, speaker)
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
            parts.append("for " + ", ".join(intent.assignees))
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
