"""The task modal and App Home over the real task layer.

``ServiceTaskForms`` fills the Edit / "Create task from message" modal from a
task or a parsed message, checks a submission (fast, before the ack) and saves
it through ``TaskService``. ``StoreHome`` gathers a person's App Home. Times in
the modal are read with the same ``IntentParser`` as chat messages, so "Due:
tomorrow 17:00" means what it means in a DM.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.cards import describe_schedule
from bot.formatting import when
from bot.slack.home import HomeData, RunLine, SpeakerLanguages
from bot.slack.modals import DUE, PRIORITIES, SCHEDULE, TITLE, TaskForm
from core.enums import Platform, TaskKind, TaskStatus
from core.errors import KairosError
from core.intents.model import Intent, ParsedSchedule
from core.messages import Inbound, Reply, ReplyKind, TaskLine
from core.models import Member, TaskPublic
from core.ports import Clock, IntentParser
from core.services.tasks import TaskService
from core.store import SqlStore, TaskQuery
from core.store.runs import RunStore

_PROBE = "remind me to x"  # a sentence the parser reads; the time words follow it
_ONE_OFF = {"once"}


def schedule_data(parsed: ParsedSchedule) -> dict[str, Any]:
    """The parser's ``ParsedSchedule`` as ``core.schedule`` data for the task service."""
    if parsed.kind == "once":
        return {"kind": "once", "at": parsed.at, "timezone": parsed.timezone}
    if parsed.kind == "interval":
        return {
            "kind": "interval",
            "every_seconds": parsed.every_seconds,
            "timezone": parsed.timezone,
        }
    if parsed.kind == "event":
        return {"kind": "event", "event": parsed.event, "timezone": parsed.timezone}
    if parsed.cron:
        return {"kind": "cron", "cron": parsed.cron, "timezone": parsed.timezone}
    data: dict[str, Any] = {"kind": "rrule", "rrule": parsed.rrule, "timezone": parsed.timezone}
    if parsed.dtstart is not None:
        data["dtstart"] = parsed.dtstart
    return data


def _person_id(ref: str) -> bool:
    """A platform user id (Slack ``U…``/``W…``, Discord digits), not a name."""
    return (ref[:1] in {"U", "W"} and ref.isalnum()) or ref.isdigit()


def _local(instant: datetime, tz: str) -> str:
    # A form the parser reads back unchanged, so an untouched field stays put.
    return f"{instant.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"


class ServiceTaskForms:
    """``bot.slack.forms.TaskForms`` over ``TaskService`` and an ``IntentParser``."""

    def __init__(
        self, *, service: TaskService, store: SqlStore, parser: IntentParser, clock: Clock
    ) -> None:
        self._service = service
        self._store = store
        self._parser = parser
        self._clock = clock

    async def _actor(self, inbound: Inbound) -> Member:
        workspace = await self._store.ensure_workspace(
            Platform(inbound.platform), inbound.workspace_ref
        )
        assert workspace.id is not None
        return await self._store.ensure_member(
            workspace.id,
            inbound.user_ref,
            display_name=inbound.user_name,
            timezone=inbound.user_timezone,
        )

    def _tz(self, inbound: Inbound) -> str:
        return inbound.user_timezone or "UTC"

    def _when(self, text: str, inbound: Inbound) -> Intent:
        return self._parser.parse(
            f"{_PROBE} {text}", now=self._clock.now(), tz=self._tz(inbound), user=inbound.user_ref
        )

    # --- TaskForms -------------------------------------------------------------

    async def load(self, inbound: Inbound, task_id: int) -> TaskForm:
        actor = await self._actor(inbound)
        task = await self._service.get(task_id, workspace_id=actor.workspace_id)
        tz = self._tz(inbound)
        due, schedule = "", describe_schedule(task.schedule, tz)
        if task.due is not None:
            due = _local(task.due, tz)
        elif task.schedule and task.schedule.get("kind") in _ONE_OFF:
            due, schedule = _local(datetime.fromisoformat(str(task.schedule["at"])), tz), ""
        return TaskForm(
            title=task.title,
            due=due,
            schedule=schedule,
            assignees=tuple(a for a in task.assignees if _person_id(a)),
            priority=str(task.priority),
            task_id=task.id,
            extra={"due": due, "schedule": schedule},
        )

    async def draft(self, inbound: Inbound, text: str) -> TaskForm:
        intent = self._parser.parse(
            text, now=self._clock.now(), tz=self._tz(inbound), user=inbound.user_ref
        )
        tz = self._tz(inbound)
        due, schedule = "", ""
        if intent.due is not None:
            due = _local(intent.due, tz)
        elif intent.schedule is not None and intent.schedule.kind == "once" and intent.schedule.at:
            due = _local(intent.schedule.at, tz)
        people = tuple(a for a in intent.assignees if _person_id(a))
        return TaskForm(
            title=(intent.title or text).strip()[:500],
            due=due,
            schedule=schedule,
            assignees=people,
            priority=intent.priority or "normal",
        )

    async def check(self, inbound: Inbound, form: TaskForm) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not form.title.strip():
            errors[TITLE] = "Give the task a title."
        elif len(form.title) > 500:
            errors[TITLE] = "Keep the title under 500 characters."
        if form.due and form.due != form.extra.get("due") and self._due(form.due, inbound) is None:
            errors[DUE] = "I could not read that time. Try 'tomorrow 17:00' or '2026-03-05 09:00'."
        if (
            form.schedule
            and form.schedule != form.extra.get("schedule")
            and self._repeat(form.schedule, inbound) is None
        ):
            errors[SCHEDULE] = "I could not read a repetition. Try 'every weekday at 9:00'."
        if form.priority not in PRIORITIES:
            errors["priority"] = "Pick a priority."
        return errors

    def _due(self, text: str, inbound: Inbound) -> datetime | None:
        intent = self._when(text, inbound)
        if (intent.title or "x") != "x":
            return None  # words left over: not only a time
        if intent.schedule is not None and intent.schedule.kind == "once":
            return intent.schedule.at
        return intent.due

    def _repeat(self, text: str, inbound: Inbound) -> dict[str, Any] | None:
        intent = self._when(text, inbound)
        if (intent.title or "x") != "x" or intent.schedule is None:
            return None
        if intent.schedule.kind in ("once", "event"):
            return None
        return schedule_data(intent.schedule)

    async def save(self, inbound: Inbound, form: TaskForm) -> list[Reply]:
        actor = await self._actor(inbound)
        try:
            task = await (
                self._update(actor, form, inbound)
                if form.task_id is not None
                else self._create(actor, form, inbound)
            )
        except KairosError as exc:
            return [Reply(text=exc.user_message(), kind=ReplyKind.ERROR, ephemeral=True)]
        verb = "Updated" if form.task_id is not None else "Created"
        return [
            Reply(
                text=f"{verb} #{task.id} {task.title}",
                kind=ReplyKind.CONFIRMATION,
                task_id=task.id,
                channel_ref=form.channel,
            )
        ]

    async def _create(self, actor: Member, form: TaskForm, inbound: Inbound) -> TaskPublic:
        data: dict[str, Any] = {
            "kind": TaskKind.TASK,
            "title": form.title,
            "priority": form.priority,
            "timezone": self._tz(inbound),
            "assignees": list(form.assignees) or ["me"],
            "channel_ref": form.channel,
        }
        if form.due:
            data["due"] = self._due(form.due, inbound)
        if form.schedule:
            data["schedule"] = self._repeat(form.schedule, inbound)
        return await self._service.create(data, actor=actor)

    async def _update(self, actor: Member, form: TaskForm, inbound: Inbound) -> TaskPublic:
        assert form.task_id is not None
        current = await self._service.get(form.task_id, workspace_id=actor.workspace_id)
        changes: dict[str, Any] = {
            "title": form.title,
            "priority": form.priority,
            "assignees": list(form.assignees),
        }
        one_off = bool(current.schedule and current.schedule.get("kind") in _ONE_OFF)
        if form.due != form.extra.get("due"):
            instant = self._due(form.due, inbound) if form.due else None
            if one_off and current.due is None:
                changes["schedule"] = (
                    {"kind": "once", "at": instant, "timezone": self._tz(inbound)}
                    if instant
                    else None
                )
            else:
                changes["due"] = instant
        if form.schedule != form.extra.get("schedule"):
            changes["schedule"] = self._repeat(form.schedule, inbound) if form.schedule else None
        return await self._service.update(form.task_id, changes, actor=actor)


class StoreHome:
    """``bot.slack.home.HomeSource`` over the store: what is on a person's plate."""

    def __init__(
        self,
        *,
        store: SqlStore,
        runs: RunStore,
        clock: Clock,
        languages: SpeakerLanguages | None = None,
    ) -> None:
        self._store = store
        self._runs = runs
        self._clock = clock
        self._languages = languages

    async def home(self, *, workspace_ref: str, user_ref: str, timezone: str) -> HomeData:
        workspace = await self._store.find_workspace(Platform.SLACK, workspace_ref)
        if workspace is None or workspace.id is None:
            return HomeData()
        now = self._clock.now()
        mine = await self._store.query_tasks(
            workspace.id,
            TaskQuery(statuses=frozenset({TaskStatus.OPEN}), assignee=user_ref, limit=50),
            now=now,
        )

        def line(task: TaskPublic) -> TaskLine:
            at = task.due or task.next_fire_at
            return TaskLine(
                task_id=int(task.id),
                title=task.title,
                when=when(at, timezone, now=now) if at else "",
                status=str(task.status),
                priority=str(task.priority),
                overdue=task.due is not None and task.due < now,
            )

        tasks = tuple(line(t) for t in mine)
        upcoming = sorted(
            (t for t in mine if t.next_fire_at is not None), key=lambda t: t.next_fire_at or now
        )
        reminders = tuple(
            replace(line(t), when=when(t.next_fire_at, timezone, now=now))
            for t in upcoming
            if t.next_fire_at is not None
        )
        runs: list[tuple[datetime, RunLine]] = []
        for task in mine[:15]:
            for run in await self._runs.runs_for(int(task.id), limit=3):
                at = run.finished_at or run.scheduled_for
                runs.append(
                    (
                        at,
                        RunLine(
                            int(task.id), task.title, str(run.status), when(at, timezone, now=now)
                        ),
                    )
                )
        runs.sort(key=lambda pair: pair[0], reverse=True)
        language = (
            await self._languages.language(workspace_id=workspace.id, person=user_ref)
            if self._languages is not None
            else "en"
        )
        return HomeData(
            tasks=tasks,
            reminders=reminders,
            runs=tuple(r for _, r in runs[:10]),
            language=language,
            workspace_id=workspace.id,
        )
