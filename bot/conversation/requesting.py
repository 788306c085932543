"""Answers to the requests the parser has no intent for (``requests.py`` patterns).

A mixin of ``ChatConversation``: restore, reopen, pause/resume, rename,
unassign, comment, retry policy, show, who, next run, how long, search,
personal time zone, roles, undo and "delete everything" — each through a
service that checks permissions and writes an audit event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import formatting
from bot.conversation import replies
from bot.conversation.readings import LIVE, upcoming
from bot.conversation.refs import bare_name, is_pronoun, number_of
from bot.conversation.requests import Request
from bot.conversation.speaker import Asked, Speaker
from core.enums import Role, TaskStatus
from core.errors import InvalidInput, NotFound
from core.intents.specs import to_spec
from core.messages import Reply
from core.models import Member, TaskPublic
from core.ports import Clock, IntentParser
from core.services.conversation import ConversationMemory
from core.services.members import MemberService
from core.services.tasks import TaskService
from core.store import TaskQuery


class RequestAnswers:
    """The request handlers; the rest of the conversation supplies the helpers below."""

    _tasks: TaskService
    _members: MemberService
    _parser: IntentParser
    _clock: Clock
    memory: ConversationMemory

    if TYPE_CHECKING:

        async def _task(
            self,
            ref: str | None,
            speaker: Speaker,
            *,
            fired: bool = False,
            intent: Any = None,
            allow_done: bool = False,
        ) -> TaskPublic: ...

        def _may_see(self, task: TaskPublic, member: Member) -> bool: ...

        async def _remember(self, task: TaskPublic, speaker: Speaker) -> None: ...

        async def _undoable(self, speaker: Speaker, task_id: int, undo: dict[str, Any]) -> None: ...

        def _confirm(self, verb: str, task: TaskPublic, speaker: Speaker) -> Reply: ...

        async def _visible(self, query: TaskQuery, speaker: Speaker) -> list[TaskPublic]: ...

    async def _request(self, request: Request, speaker: Speaker) -> list[Reply]:
        simple = await self._personal(request, speaker)
        if simple is not None:
            return simple
        try:
            allow = request.kind in {"restore", "reopen", "show", "who", "next_run", "how_long"}
            if request.kind == "restore":
                task = await self._deleted(request.ref, speaker)
            else:
                task = await self._task(request.ref, speaker, allow_done=allow)
        except Asked as asked:
            return [asked.reply]
        return await self._on(request, task.id, speaker)

    async def _reschedule(self, task_id: int, words: str, speaker: Speaker) -> list[Reply]:
        """A new repeating schedule, read by the parser as a reminder's would be."""
        reading = self._parser.parse(
            f"remind me {words} to do it", now=self._clock.now(), tz=speaker.tz, user="me"
        )
        schedule = reading.schedule
        if schedule is None or schedule.kind not in ("recurring", "interval"):
            return [
                replies.question(
                    f"I couldn't read '{words}' as a repeating schedule. "
                    "Try e.g. 'every weekday at 10' or 'every Monday at 9'."
                )
            ]
        current = await self._tasks.get(task_id, workspace_id=speaker.workspace_id)
        task = await self._tasks.update(
            task_id, {"schedule": to_spec(schedule)}, actor=speaker.member
        )
        await self._remember(task, speaker)
        await self._undoable(
            speaker, task.id, {"op": "update", "values": {"schedule": current.schedule}}
        )
        return [self._confirm("Rescheduled", task, speaker)]

    async def _deleted(self, ref: str | None, speaker: Speaker) -> TaskPublic:
        """The task "restore …" means: a number, "it" (the one just deleted), or its name."""
        ws = speaker.workspace_id
        number = number_of(ref or "")
        if number is None and is_pronoun(ref):
            number = await self.memory.last_discussed(
                workspace_id=ws, place=speaker.place, person=speaker.person
            )
        if number is not None:
            task = await self._tasks.get(number, workspace_id=ws)
            if not self._may_see(task, speaker.member):
                raise NotFound(f"There is no task #{number} you can see.")
            return task
        if not ref:
            raise InvalidInput("Which task should I restore?", hint="Say 'restore #3'.")
        ref = bare_name(ref)
        gone = await self._tasks.query(
            TaskQuery(text=ref, statuses=frozenset({TaskStatus.DELETED}), include_deleted=True),
            workspace_id=ws,
        )
        gone = [t for t in gone if self._may_see(t, speaker.member)]
        if len(gone) != 1:
            listed = ", ".join(f"#{t.id} '{t.title}'" for t in gone[:5])
            raise InvalidInput(
                f"Several deleted tasks match '{ref}': {listed}."
                if gone
                else f"I can't find a deleted task called '{ref}'.",
                hint="Say 'restore #N' with its number.",
            )
        return gone[0]

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
                statuses=LIVE | {TaskStatus.DONE},
            )
            found = [t for t in found if self._may_see(t, speaker.member)]
            return [
                replies.task_list(
                    f"Tasks matching '{request.arg}'", found, tz=speaker.tz, now=self._clock.now()
                )
            ]
        if kind == "list_done":
            done = await self._visible(TaskQuery(statuses=frozenset({TaskStatus.DONE})), speaker)
            return [replies.task_list("Done tasks", done, tz=speaker.tz, now=self._clock.now())]
        if kind == "next_mine":
            mine = await self._visible(TaskQuery(statuses=frozenset({TaskStatus.OPEN})), speaker)
            mine = [t for t in mine if t.next_fire_at and speaker.person in t.assignees]
            if not mine:
                return [replies.text("You have no reminders coming up.")]
            first = min(mine, key=lambda t: t.next_fire_at or self._clock.now())
            assert first.next_fire_at is not None
            shown = formatting.when(first.next_fire_at, speaker.tz, now=self._clock.now())
            await self._remember(first, speaker)
            return [
                replies.text(
                    f"Your next reminder: #{first.id} '{first.title}', {shown}.", task_id=first.id
                )
            ]
        if kind == "undo":
            return await self._undo(speaker)
        if kind == "delete_all":
            mine = await self._visible(TaskQuery(statuses=LIVE | {TaskStatus.DONE}), speaker)
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
        if kind == "reschedule":
            return await self._reschedule(task_id, request.arg or "", speaker)
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
            lines = [replies.describe(task, tz=speaker.tz, now=now, next_runs=upcoming(task))]
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
            coming = upcoming(task)
            if not coming:
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
                    f"{formatting.when(coming[0], speaker.tz, now=now)}.",
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
