"""The task service: every change to a task goes through here.

It validates input into clear domain errors, resolves assignees to members,
guards the dependency graph, sets the engine's ``next_fire_at`` cursor, writes
the change and its audit event in one transaction, and then tells the engine
(``TaskListener``) so it can reschedule. Mutations that change nothing write
nothing (pressing "Done" twice is harmless).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from core.batching import GroupCommit
from core.enums import Role, TaskStatus
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.models import AuditEvent, Member, TaskCreate, TaskPublic, TaskUpdate
from core.ports import Clock, CreationListener, TaskListener
from core.schedule import ScheduleSpec
from core.scheduler.outage import is_database_outage
from core.services.actions import ActionChecker
from core.services.audit import record_action
from core.services.firing import new_schedule, next_fire, stored_spec
from core.services.inputs import (
    clean_description,
    clean_due,
    clean_timezone,
    clean_title,
    invalid_fields,
    raw_fields,
    stored_schedule,
    task_numbers,
)
from core.services.links import ME, TaskLinks
from core.store import SqlStore, TaskQuery

log = logging.getLogger(__name__)

#: Changes to these fields can move the task's fire times: the engine is told.
_SCHEDULING_FIELDS = frozenset({"schedule", "enabled", "status", "due"})
#: Optional fields an update may set to ``None`` (besides due/schedule, cleaned above).
_CLEARABLE = frozenset({"action", "retry_policy", "channel_ref", "thread_ref"})


def _json(value: Any) -> Any:
    return to_jsonable_python(value)


class TaskService:
    """Create, change, complete, delete and list tasks on behalf of a member.

    Every mutation takes the acting ``Member``; the task must be in that
    member's workspace (a task elsewhere is "not found": workspaces never see
    each other). Reads take the ``workspace_id``.
    """

    def __init__(
        self,
        *,
        store: SqlStore,
        clock: Clock,
        listener: TaskListener | None = None,
        actions: ActionChecker | None = None,
    ) -> None:
        self._store = store
        self._actions = actions
        self._links = TaskLinks(store)
        self._clock = clock
        self._listener = listener
        # Checked once: isinstance on a runtime-checkable Protocol is slow.
        self._creation_listener = listener if isinstance(listener, CreationListener) else None
        self._fired = GroupCommit(self._finish_fired_many, name="kairos-fired-done")

    # --- reads ---------------------------------------------------------------------

    async def get(self, task_id: int, *, workspace_id: int) -> TaskPublic:
        """The task (deleted ones too: their status says so), or ``NotFound``."""
        return await self._store.get_task(task_id, workspace_id=workspace_id)

    async def query(
        self,
        query: TaskQuery | None = None,
        *,
        workspace_id: int,
        actor: Member | None = None,
    ) -> list[TaskPublic]:
        """Tasks matching ``query``, overdue first. ``assignee="me"`` needs ``actor``."""
        query = query or TaskQuery()
        if query.assignee is not None and query.assignee.strip().lower() == ME:
            if actor is None:
                raise InvalidInput(
                    "'me' as an assignee needs to know who is asking.",
                    hint="Name the person instead.",
                )
            query = query.with_assignee(actor.platform_user_id)
        return await self._store.query_tasks(workspace_id, query, now=self._clock.now())

    async def history(self, task_id: int, *, workspace_id: int) -> Sequence[AuditEvent]:
        """The task's audit trail, oldest first."""
        await self._store.get_task(task_id, workspace_id=workspace_id)
        return await self._store.audit_for_task(task_id, workspace_id=workspace_id)

    # --- create / update -----------------------------------------------------------

    async def create(self, data: TaskCreate | Mapping[str, Any], *, actor: Member) -> TaskPublic:
        """Validate and store a new task; ``data`` may be raw (e.g. ``due`` as a string)."""
        self._may_change(actor)
        workspace_id = self._workspace_of(actor)
        raw, given = raw_fields(data, TaskCreate)
        await self._check_action(raw, actor)
        now = self._clock.now()

        # One transaction from here: the workspace's default zone (when needed) is
        # read on the same connection the task and its audit event are written on.
        async with self._store.transaction():
            if "timezone" in given and raw.get("timezone") is not None:
                timezone = clean_timezone(raw["timezone"])
            else:
                timezone = (
                    actor.timezone
                    or (await self._store.get_workspace(workspace_id)).default_timezone
                )
            title = clean_title(raw.get("title"))
            description = clean_description(raw.get("description"))
            due = clean_due(raw.get("due"), timezone)
            spec = new_schedule(raw.get("schedule"), timezone, now)
            assignees = list(raw.get("assignees") or [])
            depends_on = task_numbers(raw.get("depends_on") or [])
            try:
                checked = TaskCreate.model_validate(
                    {
                        **raw,
                        "title": title,
                        "description": description,
                        "timezone": timezone,
                        "due": due,
                        "schedule": stored_schedule(spec),
                        "assignees": assignees,
                        "depends_on": depends_on,
                    }
                )
            except ValidationError as exc:
                raise invalid_fields(exc) from exc

            # Column values, not a ``Task`` object: the store inserts them with Core.
            task = checked.model_dump(exclude={"assignees", "depends_on"})
            # One pause state: a task created disabled is a paused task ("resume" starts it).
            status = TaskStatus.OPEN if checked.enabled else TaskStatus.PAUSED
            task.update(
                workspace_id=workspace_id,
                status=status,
                enabled=True,
                created_by=actor.id,
                last_modified_by=actor.id,
                created_at=now,
                updated_at=now,
                next_fire_at=next_fire(spec, status=status, enabled=True, now=now),
            )

            member_ids = await self._links.assignee_ids(workspace_id, checked.assignees, actor)
            predecessors = await self._links.predecessor_ids(workspace_id, None, checked.depends_on)
            created = await self._store.insert_task(
                task, assignee_ids=member_ids, depends_on=predecessors
            )
            await self._store.record_audit(
                workspace_id=workspace_id,
                action="task.created",
                at=now,
                actor_id=actor.id,
                task_id=created.id,
                details={"task": created.model_dump(mode="json", exclude={"id", "workspace_id"})},
            )
        # After the commit: inside a caller's transaction (a plan's workflow), only
        # once the whole of it is in.
        await self._store.after_commit(partial(self._tell_created, created))
        return created

    async def update(
        self, task_id: int, changes: TaskUpdate | Mapping[str, Any], *, actor: Member
    ) -> TaskPublic:
        """Change the given fields only (``None`` clears ``due``/``schedule``/...).

        A naive ``due`` is read in the task's (possibly new) zone. Changing
        ``timezone`` does not move an existing schedule: a schedule carries its own
        zone (a new schedule given without one gets the task's). ``enabled`` is no
        field of its own: ``False`` pauses and ``True`` resumes (``pause``/``resume``,
        the one pause state of a task), after the other changes.
        """
        self._may_change(actor)
        raw, given = raw_fields(changes, TaskUpdate)
        enabled: bool | None = None
        if "enabled" in given:
            try:
                enabled = TaskUpdate.model_validate({"enabled": raw.pop("enabled")}).enabled
            except ValidationError as exc:
                raise invalid_fields(exc) from exc
            given = given - {"enabled"}
        updated = await self._update(task_id, raw, given, actor) if given else None
        if enabled is False:
            return await self.pause(task_id, actor=actor)
        if enabled is True:
            current = updated or await self._live(task_id, actor.workspace_id)
            if current.status != TaskStatus.PAUSED:
                return current  # not paused: already "enabled"
            return await self.resume(task_id, actor=actor)
        return updated or await self._live(task_id, actor.workspace_id)

    async def _update(
        self, task_id: int, raw: dict[str, Any], given: set[str], actor: Member
    ) -> TaskPublic:
        workspace_id = self._workspace_of(actor)
        await self._check_action(raw, actor)
        now = self._clock.now()

        async with self._store.transaction():
            current = await self._live(task_id, workspace_id)
            timezone = current.timezone
            values: dict[str, Any] = {}
            if "timezone" in given:
                timezone = values["timezone"] = clean_timezone(raw["timezone"])
            if "title" in given:
                values["title"] = clean_title(raw["title"])
            if "description" in given:
                values["description"] = clean_description(raw["description"])
            if "due" in given:
                values["due"] = clean_due(raw["due"], timezone)
            spec: ScheduleSpec | None = None
            if "schedule" in given:
                spec = new_schedule(raw["schedule"], timezone, now)
                values["schedule"] = stored_schedule(spec)
            simple = given - set(values) - {"assignees", "depends_on"}
            try:
                checked = TaskUpdate.model_validate({k: raw[k] for k in simple})
            except ValidationError as exc:
                raise invalid_fields(exc) from exc
            for name in simple:
                value = getattr(checked, name)
                if value is None and name not in _CLEARABLE:
                    raise InvalidInput(
                        f"The task field {name!r} cannot be empty.",
                        hint="Give it a value, or leave it out to keep the current one.",
                    )
                values[name] = value

            changed = {
                name: {"from": _json(getattr(current, name)), "to": _json(value)}
                for name, value in values.items()
                if getattr(current, name) != value
            }
            member_ids: list[int] | None = None
            if "assignees" in given:
                member_ids = await self._links.assignee_ids(
                    workspace_id, list(raw["assignees"] or []), actor
                )
            predecessors: list[int] | None = None
            if "depends_on" in given:
                predecessors = await self._links.predecessor_ids(
                    workspace_id, task_id, list(raw["depends_on"] or [])
                )
                if sorted(predecessors) != sorted(current.depends_on):
                    changed["depends_on"] = {"from": current.depends_on, "to": sorted(predecessors)}
            if member_ids is not None:
                before = list(current.assignees)
                after = await self._links.platform_ids(workspace_id, member_ids)
                if sorted(before) != sorted(after):
                    changed["assignees"] = {"from": before, "to": after}
            if "channel_ref" in changed and current.thread_ref and "thread_ref" not in given:
                # Its card and thread stay in the old place; the new one gets a card of its own.
                values["thread_ref"] = None
                changed["thread_ref"] = {"from": current.thread_ref, "to": None}
            if not changed:
                return current

            if "schedule" in changed:
                values["next_fire_at"] = next_fire(
                    spec, status=current.status, enabled=current.enabled, now=now
                )
            values = {k: v for k, v in values.items() if k in changed or k == "next_fire_at"}
            values.update(updated_at=now, last_modified_by=actor.id)
            updated = await self._store.update_task(
                task_id,
                values,
                workspace_id=workspace_id,
                assignee_ids=member_ids if "assignees" in changed else None,
                depends_on=predecessors if "depends_on" in changed else None,
            )
            await self._store.record_audit(
                workspace_id=workspace_id,
                action="task.updated",
                at=now,
                actor_id=actor.id,
                task_id=task_id,
                details={"changes": changed},
            )
        if _SCHEDULING_FIELDS & set(changed):
            await self._tell(task_id)
        return updated

    # --- state changes -------------------------------------------------------------

    async def complete(self, task_id: int, *, actor: Member) -> TaskPublic:
        """Mark done (stops its schedule). Already done: nothing happens."""
        return await self._transition(
            task_id,
            actor,
            "task.completed",
            frm={TaskStatus.OPEN, TaskStatus.PAUSED},
            to=TaskStatus.DONE,
            stamp={"completed_at": True},
        )

    async def reopen(self, task_id: int, *, actor: Member) -> TaskPublic:
        """Make a done task open again (its schedule resumes from now)."""
        return await self._transition(
            task_id,
            actor,
            "task.reopened",
            frm={TaskStatus.DONE},
            to=TaskStatus.OPEN,
            stamp={"completed_at": False},
        )

    async def pause(self, task_id: int, *, actor: Member) -> TaskPublic:
        """Stop firing until resumed. Already paused: nothing happens."""
        return await self._transition(
            task_id, actor, "task.paused", frm={TaskStatus.OPEN}, to=TaskStatus.PAUSED
        )

    async def resume(self, task_id: int, *, actor: Member) -> TaskPublic:
        """Fire again from now on (missed fires while paused are not caught up).

        This and ``pause`` are the only way a task stops and starts firing: every
        surface (chat, Slack buttons, CLI, ``update({"enabled": …})``) comes here,
        so the permission check, the audit event and the resume rule are one."""
        return await self._transition(
            task_id, actor, "task.resumed", frm={TaskStatus.PAUSED}, to=TaskStatus.OPEN
        )

    async def delete(self, task_id: int, *, actor: Member) -> TaskPublic:
        """Soft-delete: hidden from lists and never fires, but ``restore`` brings it back."""
        self._may_change(actor)
        workspace_id = self._workspace_of(actor)
        now = self._clock.now()
        async with self._store.transaction():
            current = await self._store.get_task(task_id, workspace_id=workspace_id)
            if current.status == TaskStatus.DELETED:
                return current
            updated = await self._store.soft_delete_task(
                task_id, at=now, workspace_id=workspace_id, actor_id=actor.id
            )
            await self._audit_status(actor, task_id, "task.deleted", current.status, now)
        await self._tell(task_id)
        return updated

    async def restore(self, task_id: int, *, actor: Member) -> TaskPublic:
        """Undo ``delete``: the task gets back the status it had, and its schedule."""
        self._may_change(actor)
        workspace_id = self._workspace_of(actor)
        now = self._clock.now()
        async with self._store.transaction():
            current = await self._store.get_task(task_id, workspace_id=workspace_id)
            if current.status != TaskStatus.DELETED:
                return current
            status = await self._status_before_delete(current)
            updated = await self._store.restore_task(
                task_id,
                status=status,
                at=now,
                next_fire_at=next_fire(
                    stored_spec(current.schedule), status=status, enabled=current.enabled, now=now
                ),
                workspace_id=workspace_id,
                actor_id=actor.id,
            )
            await self._audit_status(actor, task_id, "task.restored", current.status, now, status)
        await self._tell(task_id)
        return updated

    async def comment(self, task_id: int, text: str, *, actor: Member) -> TaskPublic:
        """Add a comment to the task (kept in its audit trail)."""
        self._may_change(actor)
        body = text.strip()
        if not body:
            raise InvalidInput("The comment is empty.", hint="Say 'add a comment to #5: …'.")
        task = await self._live(task_id, actor.workspace_id)
        await record_action(
            self._store,
            self._clock,
            actor,
            "task.commented",
            task_id=task_id,
            details={"text": body[:2000]},
        )
        return task

    async def occurrence_done(self, task_id: int, *, actor: Member) -> TaskPublic:
        """This time of a recurring task is done; the series goes on (audited)."""
        self._may_change(actor)
        task = await self._live(task_id, actor.workspace_id)
        await record_action(
            self._store,
            self._clock,
            actor,
            "task.occurrence_done",
            task_id=task_id,
            details={"next_fire_at": task.next_fire_at.isoformat() if task.next_fire_at else None},
        )
        return task

    async def comments(self, task_id: int, *, workspace_id: int) -> list[str]:
        """The task's comments, oldest first."""
        return [
            str((event.details or {}).get("text", ""))
            for event in await self.history(task_id, workspace_id=workspace_id)
            if event.action == "task.commented"
        ]

    async def search(
        self,
        text: str,
        *,
        workspace_id: int,
        statuses: frozenset[TaskStatus] | None = None,
        limit: int = 50,
    ) -> list[TaskPublic]:
        """Tasks whose title, description or comments hold every word of ``text``
        (full-text: stems and prefixes match), best match first."""
        found: list[TaskPublic] = []
        ranked = await self._store.search_task_ids(workspace_id, text, limit=limit * 2)
        for task in await self._store.tasks_in_order(ranked, workspace_id=workspace_id):
            if task.status == TaskStatus.DELETED and (
                statuses is None or TaskStatus.DELETED not in statuses
            ):
                continue
            if statuses is None or task.status in statuses:
                found.append(task)
            if len(found) >= limit:
                break
        return found

    async def finish_fired(self, task_id: int) -> bool:
        """A one-off reminder has fired: it is done (by Kairos, audited as such).

        Reminders fired together share one commit: a burst of a thousand is a
        handful of transactions, not a thousand writers queueing for the lock.
        False if the task was no longer open (done, paused or deleted meanwhile).
        """
        return await self._fired.submit(task_id)

    async def _finish_fired_many(self, task_ids: Sequence[int]) -> list[bool]:
        now = self._clock.now()
        async with self._store.transaction():
            done = await self._store.complete_fired(set(task_ids), at=now)
            for task_id, workspace_id in done.items():
                await self._store.record_audit(
                    workspace_id=workspace_id,
                    action="task.completed",
                    at=now,
                    actor_id=None,
                    task_id=task_id,
                    details={"changes": {"status": {"from": "open", "to": "done"}}, "by": "fired"},
                )
        await self._tell_many(list(done))
        return [task_id in done for task_id in task_ids]

    # --- helpers -------------------------------------------------------------------

    async def _transition(
        self,
        task_id: int,
        actor: Member,
        action: str,
        *,
        frm: set[TaskStatus],
        to: TaskStatus,
        stamp: Mapping[str, bool] | None = None,
    ) -> TaskPublic:
        self._may_change(actor)
        workspace_id = self._workspace_of(actor)
        now = self._clock.now()
        async with self._store.transaction():
            current = await self._live(task_id, workspace_id)
            if current.status == to or current.status not in frm:
                if current.status == to:
                    return current
                raise InvalidInput(
                    f"Task #{task_id} is {current.status}; it cannot be {action.split('.')[1]}.",
                    hint="Reopen or resume it first.",
                )
            values: dict[str, Any] = {"status": to, "updated_at": now, "last_modified_by": actor.id}
            for name, set_it in (stamp or {}).items():
                values[name] = now if set_it else None
            values["next_fire_at"] = next_fire(
                stored_spec(current.schedule), status=to, enabled=current.enabled, now=now
            )
            updated = await self._store.update_task(task_id, values, workspace_id=workspace_id)
            await self._audit_status(actor, task_id, action, current.status, now, to)
        await self._tell(task_id)
        return updated

    async def _audit_status(
        self,
        actor: Member,
        task_id: int,
        action: str,
        before: TaskStatus,
        at: datetime,
        after: TaskStatus = TaskStatus.DELETED,
    ) -> None:
        await self._store.record_audit(
            workspace_id=self._workspace_of(actor),
            action=action,
            at=at,
            actor_id=actor.id,
            task_id=task_id,
            details={"changes": {"status": {"from": str(before), "to": str(after)}}},
        )

    async def _status_before_delete(self, task: TaskPublic) -> TaskStatus:
        """The status recorded when the task was deleted (the audit trail keeps it)."""
        for event in reversed(await self._store.audit_for_task(task.id)):
            if event.action == "task.deleted" and event.details:
                before = event.details.get("changes", {}).get("status", {}).get("from")
                if before in TaskStatus.__members__.values() and before != TaskStatus.DELETED:
                    return TaskStatus(before)
        return TaskStatus.DONE if task.completed_at is not None else TaskStatus.OPEN

    async def _live(self, task_id: int, workspace_id: int) -> TaskPublic:
        task = await self._store.get_task(task_id, workspace_id=workspace_id)
        if task.status == TaskStatus.DELETED:
            raise NotFound(
                f"Task #{task_id} was deleted.",
                hint=f"Restore it first ('restore #{task_id}') if you want to change it.",
            )
        return task

    @staticmethod
    def _may_change(actor: Member) -> None:
        if actor.role == Role.VIEWER:
            raise PermissionDenied(
                "Viewers cannot change tasks.",
                hint="Ask a workspace admin to give you the member role.",
            )

    def caveats(self, task: TaskPublic) -> list[str]:
        """What will make the task's job fail as things stand (said with its confirmation)."""
        if self._actions is None or task.action is None:
            return []
        return self._actions.caveats(task.action, workspace_id=task.workspace_id)

    async def _check_action(self, raw: dict[str, Any], actor: Member) -> None:
        # Before the transaction: checking may resolve a host name.
        if self._actions is not None and raw.get("action") is not None:
            raw["action"] = await self._actions.checked(raw["action"], actor=actor)

    @staticmethod
    def _workspace_of(actor: Member) -> int:
        return actor.workspace_id

    async def _tell(self, task_id: int) -> None:
        """Tell the engine after the commit. Its failure must not undo or hide the
        user's committed change; the engine rescans its cursors anyway."""
        if self._listener is None:
            return
        try:
            await self._listener.task_changed(task_id)
        except Exception as exc:
            _told_badly(exc, task_id)

    async def _tell_many(self, task_ids: Sequence[int]) -> None:
        """``_tell`` for many tasks: one read by the engine when it can take them at once."""
        if not task_ids:
            return
        if self._creation_listener is None:
            for task_id in task_ids:
                await self._tell(task_id)
            return
        try:
            await self._creation_listener.tasks_changed(task_ids)
        except Exception as exc:
            more = f" and {len(task_ids) - 5} more" if len(task_ids) > 5 else ""
            _told_badly(exc, ", #".join(str(i) for i in task_ids[:5]) + more)

    async def _tell_created(self, task: TaskPublic) -> None:
        """``_tell`` for a new task: a ``CreationListener`` gets its committed cursor
        and need not read the row back; any other listener is told as usual."""
        if self._creation_listener is None:
            await self._tell(task.id)
            return
        try:
            await self._creation_listener.task_created(task.id, task.next_fire_at)
        except Exception as exc:
            _told_badly(exc, task.id)


def _told_badly(exc: Exception, task_id: int | str) -> None:
    """A database gone between the commit and the engine hearing of it is one line (the
    engines' rescan picks the change up); anything else is a bug worth its traceback."""
    if is_database_outage(exc):
        log.warning(
            "task #%s is saved; the engine will see it on its next rescan (%s)",
            task_id,
            str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )
    else:
        log.error("task listener failed for task #%s", task_id, exc_info=exc)
