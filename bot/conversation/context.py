"""What the conversation remembers between messages: which task "it" means.

"it"/"this" is the task whose thread a message is in, else the last task
discussed in that DM or channel; "snooze" is the reminder that last fired
there; a low-confidence reading waits for a "yes"; a question Kairos asked
back waits for its answer. This is short-lived chat
memory (bounded, in-process), not state of record: tasks, runs and history
are in the database.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from core.intents.model import Intent

#: Places remembered per kind before the oldest are forgotten.
MAX_PLACES = 10_000

Key = tuple[int, str]
V = TypeVar("V")


class _Bounded(OrderedDict[Key, V], Generic[V]):
    def remember(self, key: Key, value: V) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > MAX_PLACES:
            self.popitem(last=False)


class ConversationContext:
    """Per workspace and place (a channel, a DM, a thread): what was last said."""

    def __init__(self) -> None:
        self._discussed: _Bounded[int] = _Bounded()
        self._fired: _Bounded[int] = _Bounded()
        self._pending: _Bounded[Intent] = _Bounded()
        self._asked: _Bounded[str] = _Bounded()

    def discussed(self, *, workspace_id: int, place: str, task_id: int) -> None:
        self._discussed.remember((workspace_id, place), task_id)

    def reminder_fired(self, *, workspace_id: int, place: str, task_id: int) -> None:
        self._fired.remember((workspace_id, place), task_id)
        self._discussed.remember((workspace_id, place), task_id)

    def last_discussed(self, *, workspace_id: int, place: str) -> int | None:
        return self._discussed.get((workspace_id, place))

    def last_fired(self, *, workspace_id: int, place: str) -> int | None:
        return self._fired.get((workspace_id, place))

    def propose(self, *, workspace_id: int, place: str, intent: Intent) -> None:
        """Keep a reading that waits for the person's "yes"."""
        self._pending.remember((workspace_id, place), intent)

    def take_proposal(self, *, workspace_id: int, place: str) -> Intent | None:
        return self._pending.pop((workspace_id, place), None)

    def asked(self, *, workspace_id: int, place: str, text: str) -> None:
        """Keep what was said when Kairos asked back, so the answer can complete it."""
        self._asked.remember((workspace_id, place), text)

    def take_asked(self, *, workspace_id: int, place: str) -> str | None:
        return self._asked.pop((workspace_id, place), None)


def place(
    *, user_ref: str | None, channel_ref: str | None, thread_ref: str | None, direct: bool
) -> str:
    """The key of a conversation place: a person's DM, a channel, or a thread in one."""
    if direct or channel_ref is None:
        return f"dm:{user_ref or ''}"
    return f"{channel_ref}:{thread_ref}" if thread_ref else channel_ref
