"""Which task a message means: its thread's, a number or name, "it", or ask which.

A mixin of ``ChatConversation``. Never silently an old one: a done or deleted
task is refused with what to say instead, and when nothing identifies a task
the person is asked which, with buttons for their likely tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.console import thread_task
from bot.conversation import replies
from bot.conversation.readings import LIVE
from bot.conversation.refs import AmbiguousTask, find_by_words, is_pronoun, number_of
from bot.conversation.speaker import Asked, Speaker
from core.enums import TaskKind, TaskStatus
from core.errors import InvalidInput, NotFound
from core.intents.model import Intent
from core.messages import Button, Reply, ReplyKind
from core.models import Member, TaskPublic
from core.services.conversation import ConversationMemory
from core.services.tasks import TaskService
from core.store import TaskQuery


class TaskReferences:
    """Resolving task references; the conversation supplies the helpers below."""

    _tasks: TaskService
    memory: ConversationMemory

    if TYPE_CHECKING:

        def _may_see(self, task: TaskPublic, member: Member) -> bool: ...

        async def _act(self, intent: Intent, speaker: Speaker) -> list[Reply]: ...

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
                TaskQuery(statuses=LIVE, limit=50), workspace_id=speaker.workspace_id
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
