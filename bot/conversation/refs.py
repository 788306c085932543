"""Finding the task a message is about: "it", "this", "#42", "the backup"."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from core.enums import TaskStatus
from core.errors import InvalidInput, NotFound
from core.models import TaskPublic
from core.services.tasks import TaskService
from core.store import TaskQuery

_PRONOUNS = frozenset({"", "this", "it", "that", "this one", "that one", "this task"})
_NUMBER = re.compile(r"^(?:task\s*|reminder\s*|job\s*)?#?(\d{1,12})$", re.IGNORECASE)
_FILLER = re.compile(r"^(?:the|my|our|a)\s+|\s+(?:task|reminder|job|one)$", re.IGNORECASE)


class AmbiguousTask(InvalidInput):
    """Several tasks match the words; the person must pick one."""

    def __init__(self, words: str, matches: Sequence[TaskPublic]) -> None:
        listed = ", ".join(f"#{t.id} '{t.title}'" for t in matches[:5])
        super().__init__(
            f"Which one do you mean by '{words}': {listed}?",
            hint="Say it again with the task's number, e.g. 'done #12'.",
        )
        self.matches = list(matches)


def is_pronoun(ref: str | None) -> bool:
    return ref is None or ref.strip().lower() in _PRONOUNS


def bare_name(words: str) -> str:
    """A task's name as written, without quotes and filler ("the backup task" → "backup")."""
    needle = words.strip().strip("'\"")
    while (stripped := _FILLER.sub("", needle)) != needle:
        needle = stripped
    return needle


def number_of(ref: str) -> int | None:
    found = _NUMBER.match(ref.strip())
    return int(found.group(1)) if found else None


async def find_by_words(
    tasks: TaskService,
    words: str,
    *,
    workspace_id: int,
    visible: Callable[[TaskPublic], bool] | None = None,
) -> TaskPublic:
    """The one live task whose title matches ``words`` (exact title wins over a part).

    ``visible`` leaves out tasks the speaker may not see (never named back to them).
    """
    needle = bare_name(words)
    if not needle:
        raise NotFound(f"I can't tell which task '{words}' is.", hint="Use its number.")
    live = frozenset({TaskStatus.OPEN, TaskStatus.PAUSED, TaskStatus.DONE})
    found = await tasks.query(
        TaskQuery(text=needle, statuses=live, limit=20), workspace_id=workspace_id
    )
    if visible is not None:
        found = [t for t in found if visible(t)]
    exact = [t for t in found if t.title.lower() == needle.lower()]
    candidates = exact or found
    open_ones = [t for t in candidates if t.status != TaskStatus.DONE]
    candidates = open_ones or candidates
    if not candidates:
        raise NotFound(
            f"I can't find a task called '{needle}'.",
            hint="Say 'list' to see your tasks and their numbers.",
        )
    if len(candidates) > 1:
        raise AmbiguousTask(needle, candidates)
    return candidates[0]
