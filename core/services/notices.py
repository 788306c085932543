"""Proactive notifications: plan them from what happened, deliver them once, as people prefer.

**Planning.** The audit trail is the source: every change any process commits
(chat, CLI, another replica) is an audit event; the planner reads the events
after its mark, turns them into notices (``core.notices.rules``) and moves the
mark. A run's outcome comes through ``run_ended`` (the worker's reporter), and
a workflow's through ``workflow_finished``. Each notice is a row whose unique
key is (task, rule, instant, person): planning twice adds nothing.

**Delivery.** ``deliverable(now)`` takes the notices due now: a notice that no
longer holds (the due time moved, the task is done) or that its reader muted is
dropped; one in its reader's quiet hours, or a low-priority one of a reader
who batches, is held (its delivery time moves on, in the database); the rest
are claimed (pending → sent, guarded: one replica wins) and returned as
``Outgoing`` messages for the chat edge to post.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.errors import KairosError, StoreError
from core.jobs import Job
from core.models import AuditEvent, Member, TaskPublic
from core.models_notices import Notice, NoticePref
from core.notices.prefs import BATCHED, Preferences, Route, clock_time
from core.notices.rules import Draft, Rule, due_drafts, recipients, still_true
from core.notices.wording import BATCH_HEADER, batch_text, notice_text
from core.ports import Clock, RunReport
from core.retry import will_retry
from core.services.insight import RISK_HORIZON, InsightService
from core.store import SqlStore, task_not_found
from core.store.notices import NoticeStore

log = logging.getLogger(__name__)

#: The audit actions a notice can come from (``_drafts``).
_PLANNED = frozenset({"task.created", "task.updated", "task.reopened", "task.completed"})
#: The details of a notice that name what people wrote (prerequisites, workflows).
_NAMED = ("prerequisite_title", "workflow")
#: A notice that could not be posted is tried again this much later.
RETRY_AFTER = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to post: to a person's DM, or into a channel/thread naming them."""

    workspace_id: int
    person: str
    text: str
    task_id: int | None
    channel_ref: str | None = None
    thread_ref: str | None = None
    notice_ids: tuple[int, ...] = ()
    #: A batch: its notifications one by one (``text`` is them under a header).
    batched: tuple[str, ...] = ()
    #: The language its tasks were set up in, when they share one (ISO 639-1).
    language: str | None = None
    #: What people wrote that ``text`` holds (titles): never to be translated.
    verbatim: tuple[str, ...] = ()

    def rewritten(self, lines: list[str], *, header: str = BATCH_HEADER) -> str:
        """A batch's ``text`` again, with other ``lines`` and ``header`` (translated)."""
        return _addressed(self.person, self.channel_ref, batch_text(lines, header=header))


def _plans(event: AuditEvent, waited_on: set[int]) -> bool:
    """Whether ``event`` can make notices: a completion only when tasks wait on it."""
    if event.action not in _PLANNED:
        return False
    return event.action != "task.completed" or event.task_id in waited_on


def _addressed(person: str, channel: str | None, text: str) -> str:
    """In a channel, a notification names the person it is for."""
    return f"@{person} {text}" if channel is not None else text


class NoticeService:
    """Plans and releases notifications; the chat edge posts what it returns."""

    def __init__(self, *, store: SqlStore, notices: NoticeStore, clock: Clock) -> None:
        self._store = store
        self._notices = notices
        self._clock = clock
        #: member id → platform user id (it never changes): one read per person.
        self._users: dict[int, str] = {}

    # --- planning ---------------------------------------------------------------------

    async def plan(self) -> int:
        """Read the audit events after the mark; returns how many notices were added.

        The first time (no mark yet) starts from the newest event: history from
        before notifications existed is not announced.
        """
        mark = await self._notices.mark()
        if mark is None:
            await self._notices.set_mark(await self._notices.last_audit_id())
            return 0
        events = await self._notices.audit_after(mark)
        # A burst of fired one-off reminders is a burst of completions: only those
        # with tasks waiting on them can tell anyone anything (one read for all).
        waited_on = await self._notices.having_successors(
            {e.task_id for e in events if e.action == "task.completed" and e.task_id is not None}
        )
        tasks = await self._store.find_tasks(
            {e.task_id for e in events if e.task_id is not None and _plans(e, waited_on)}
        )
        added = 0
        for event in events:
            try:
                drafts = await self._drafts(event, waited_on, tasks)
                added += await self._add(event.workspace_id, drafts)
            except StoreError:  # the database failed, not the event: the round is retried
                raise
            except KairosError as exc:  # e.g. the task is gone: nothing to tell
                log.info("audit event %s: no notice (%s)", event.id, exc)
        if events:
            await self._notices.set_mark(events[-1].id or mark)
        return added

    async def _drafts(
        self, event: AuditEvent, waited_on: set[int], tasks: dict[int, TaskPublic]
    ) -> list[Draft]:
        if event.task_id is None or not _plans(event, waited_on):
            return []
        task = tasks.get(event.task_id)
        if task is None:
            raise task_not_found(event.task_id)
        actor = await self._user(event.actor_id)
        people = recipients(task.assignees, await self._user(task.created_by))
        now = self._clock.now()
        details = event.details or {}
        drafts: list[Draft] = []
        assigned: list[str] = []
        if event.action == "task.created":
            assigned = [a for a in task.assignees if a != actor]
            if task.due is not None:
                drafts += due_drafts(task.id, task.due, people, now=now)
        elif event.action == "task.updated":
            changes = details.get("changes", {})
            if "assignees" in changes:
                before = set(changes["assignees"].get("from") or [])
                assigned = [a for a in changes["assignees"].get("to") or [] if a not in before]
                assigned = [a for a in assigned if a != actor]
            if ("due" in changes or "assignees" in changes) and task.due is not None:
                drafts += due_drafts(task.id, task.due, people, now=now)
        elif event.action == "task.reopened" and task.due is not None:
            drafts += due_drafts(task.id, task.due, people, now=now)
        elif event.action == "task.completed":
            drafts += await self._after(task, Rule.PREREQUISITE_DONE, event.at, {})
        if assigned:
            drafts.append(
                Draft(task.id, Rule.ASSIGNED, event.at, event.at, tuple(assigned), {"by": actor})
            )
        return drafts

    async def _after(
        self, task: TaskPublic, rule: Rule, instant: datetime, extra: dict[str, Any]
    ) -> list[Draft]:
        """Notices to the people of the tasks that depend on ``task``."""
        drafts = []
        for successor_id in await self._notices.successors(task.id):
            successor = await self._store.get_task(successor_id)
            if successor.status != "open":
                continue
            people = recipients(successor.assignees, await self._user(successor.created_by))
            detail = {"prerequisite": task.id, "prerequisite_title": task.title, **extra}
            drafts.append(Draft(successor.id, rule, instant, instant, people, detail))
        return drafts

    async def _add(self, workspace_id: int, drafts: list[Draft]) -> int:
        rows = []
        for draft in drafts:
            task = await self._store.get_task(draft.task_id)
            for person in draft.people:
                rows.append(
                    {
                        "workspace_id": workspace_id,
                        "task_id": draft.task_id,
                        "rule": draft.rule.value,
                        "instant": draft.instant,
                        "person": person,
                        "low": task.priority == "low",
                        "detail": draft.detail,
                        "status": "pending",
                        "deliver_at": draft.at,
                    }
                )
        return await self._notices.add(rows)

    async def plan_risks(self, insight: InsightService) -> int:
        """Tell the people of open tasks due soon that will likely be late (once per due)."""
        added = 0
        for workspace_id in await self._notices.workspaces_due_before(
            self._clock.now() + RISK_HORIZON
        ):
            drafts = []
            for risk in await insight.at_risk(workspace_id):
                task = await self._store.get_task(risk.task.id)
                if task.due is None:
                    continue
                people = recipients(task.assignees, await self._user(task.created_by))
                detail = {"estimate": risk.estimate.describe()}
                drafts.append(
                    Draft(task.id, Rule.AT_RISK, task.due, self._clock.now(), people, detail)
                )
            added += await self._add(workspace_id, drafts)
        return added

    async def report(self, job: Job, report: RunReport) -> None:
        """A run ended (``core.ports.RunReporter``): tell the people of dependent tasks."""
        if not report.ok:
            task = await self._store.get_task(job.task_id)
            if will_retry(task.retry_policy, report.attempt, report.error_kind or "error"):
                return
        task = await self._store.get_task(job.task_id)
        rule = Rule.PREREQUISITE_DONE if report.ok else Rule.PREREQUISITE_FAILED
        extra = {} if report.ok else {"error": (report.error or report.summary or "")[:150]}
        drafts = await self._after(task, rule, job.scheduled_for, extra)
        await self._add(task.workspace_id, drafts)

    async def workflow_finished(
        self,
        workflow_task_id: int,
        *,
        ok: bool,
        summary: str = "",
        people: tuple[str, ...] = (),
        at: datetime | None = None,
        workflow: str | None = None,
    ) -> int:
        """A workflow ended: tell ``people`` (default: its assignees, else its creator).

        ``workflow_task_id`` is the task the notice is filed under (muting it mutes
        the notice); ``workflow`` names the workflow in the message. Call it once per
        workflow run with the run's instant as ``at``; calling again for the same
        instant sends nothing more.
        """
        task = await self._store.get_task(workflow_task_id)
        to = people or recipients(task.assignees, await self._user(task.created_by))
        when = at or self._clock.now()
        rule = Rule.WORKFLOW_DONE if ok else Rule.WORKFLOW_FAILED
        detail = {"summary": summary[:300]} | ({"workflow": workflow} if workflow else {})
        draft = Draft(task.id, rule, when, when, tuple(to), detail)
        return await self._add(task.workspace_id, [draft])

    # --- delivery -----------------------------------------------------------------------

    async def deliverable(self) -> list[Outgoing]:
        """Claim the notices due now and say what to post (see the module docstring)."""
        now = self._clock.now()
        batches: dict[tuple[int, str], list[tuple[Notice, TaskPublic, Preferences]]] = {}
        out: list[Outgoing] = []
        for notice in await self._notices.due(now):
            assert notice.id is not None
            try:
                task = await self._store.get_task(notice.task_id)
            except StoreError:  # the database failed: the notice waits for the next round
                raise
            except KairosError:
                await self._notices.drop(notice.id, "the task is gone")
                continue
            why = still_true(
                Rule(notice.rule),
                notice.instant,
                status=str(task.status),
                due=task.due,
                detail=notice.detail or {},
                now=now,
            )
            member = await self._store.find_member(notice.workspace_id, notice.person)
            prefs = await self.preferences(member) if member else Preferences()
            if why is None and task.id in prefs.muted:
                why = "muted"
            if why is not None:
                await self._notices.drop(notice.id, why)
                continue
            held = prefs.hold(now, low=notice.low, batched=notice.note == BATCHED)
            if held is not None:
                await self._notices.hold(notice.id, *held)
                continue
            if not await self._notices.claim(notice.id, now):
                continue  # another replica has it
            if notice.low and prefs.batch_minutes:
                batches.setdefault((notice.workspace_id, notice.person), []).append(
                    (notice, task, prefs)
                )
                continue
            out.append(self._outgoing([(notice, task, prefs)]))
        out += [self._outgoing(group) for group in batches.values()]
        return out

    def _outgoing(self, group: list[tuple[Notice, TaskPublic, Preferences]]) -> Outgoing:
        texts = [
            notice_text(
                Rule(n.rule),
                task_id=t.id,
                title=t.title,
                due=t.due,
                detail=n.detail or {},
                tz=p.timezone,
            )
            for n, t, p in group
        ]
        notice, task, prefs = group[0]
        text = texts[0] if len(texts) == 1 else batch_text(texts)
        ids = tuple(n.id or 0 for n, _, _ in group)
        channel = thread = None
        if prefs.route is Route.THREAD and task.channel_ref and task.thread_ref:
            channel, thread = task.channel_ref, task.thread_ref
        elif prefs.route in (Route.THREAD, Route.CHANNEL) and task.channel_ref:
            channel = task.channel_ref
        text = _addressed(notice.person, channel, text)
        languages = {t.language for _, t, _ in group}
        named = [(n.detail or {}).get(k) for n, _, _ in group for k in _NAMED]
        verbatim = {t.title for _, t, _ in group} | {str(name) for name in named if name}
        return Outgoing(
            workspace_id=notice.workspace_id,
            person=notice.person,
            text=text,
            task_id=task.id if len(group) == 1 else None,
            channel_ref=channel,
            thread_ref=thread,
            notice_ids=ids,
            batched=tuple(texts) if len(texts) > 1 else (),
            language=languages.pop() if len(languages) == 1 else None,
            verbatim=tuple(sorted(verbatim)),
        )

    async def failed_to_post(self, outgoing: Outgoing, error: str) -> None:
        retry = self._clock.now() + RETRY_AFTER
        for notice_id in outgoing.notice_ids:
            await self._notices.unsend(notice_id, retry, f"not posted: {error}")

    async def next_due(self) -> datetime | None:
        return await self._notices.next_due()

    # --- preferences ------------------------------------------------------------------

    async def preferences(self, member: Member) -> Preferences:
        row = await self._notices.prefs(member.id or 0)
        zone = (
            member.timezone
            or (await self._store.get_workspace(member.workspace_id)).default_timezone
        )
        return _preferences(row, zone)

    async def set_route(self, member: Member, route: Route) -> Preferences:
        return await self._save(member, route=route.value)

    async def set_quiet(self, member: Member, start: str | None, end: str | None) -> Preferences:
        if (start is None) != (end is None):
            raise ValueError("quiet hours need a start and an end")
        values = None if start is None or end is None else (clock_time(start), clock_time(end))
        return await self._save(
            member,
            quiet_start=f"{values[0]:%H:%M}" if values else None,
            quiet_end=f"{values[1]:%H:%M}" if values else None,
        )

    async def set_batch(self, member: Member, minutes: int | None) -> Preferences:
        return await self._save(member, batch_minutes=minutes)

    async def set_muted(self, member: Member, task_id: int, *, muted: bool) -> Preferences:
        current = await self.preferences(member)
        ids = set(current.muted) | {task_id} if muted else set(current.muted) - {task_id}
        return await self._save(member, muted=sorted(ids))

    async def _save(self, member: Member, **values: Any) -> Preferences:
        await self._notices.save_prefs(member, self._clock.now(), **values)
        return await self.preferences(member)

    async def _user(self, member_id: int | None) -> str | None:
        if member_id is None:
            return None
        user = self._users.get(member_id)
        if user is None:
            member = await self._store.get_member(member_id)
            user = self._users[member_id] = member.platform_user_id
        return user


def _preferences(row: NoticePref | None, zone: str) -> Preferences:
    if row is None:
        return Preferences(timezone=zone)
    quiet = None
    if row.quiet_start and row.quiet_end:
        quiet = (clock_time(row.quiet_start), clock_time(row.quiet_end))
    return Preferences(
        timezone=zone,
        route=Route(row.route),
        quiet=quiet,
        batch_minutes=row.batch_minutes,
        muted=frozenset(int(n) for n in row.muted or []),
    )
