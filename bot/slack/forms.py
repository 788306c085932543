"""What the modal and the App Home need from the task layer, as interfaces.

The Slack adapter only translates; reading a task into a ``TaskForm``,
validating and saving a submitted one, and gathering a person's App Home data
are done by implementations of these protocols (``bot.slack.taskforms`` over the
task service), so the rules stay in one place for every surface.
"""

from __future__ import annotations

from typing import Protocol

from bot.slack.modals import TaskForm
from core.messages import Inbound, Reply


class TaskForms(Protocol):
    """Load, check and save the fields of the task modal."""

    async def load(self, inbound: Inbound, task_id: int) -> TaskForm:
        """The task's current fields, for the Edit modal (raises ``NotFound``)."""
        ...

    async def draft(self, inbound: Inbound, text: str) -> TaskForm:
        """Fields parsed from a message's text, for "Create task from message"."""
        ...

    async def check(self, inbound: Inbound, form: TaskForm) -> dict[str, str]:
        """Problems keyed by the modal's block ids (``modals.TITLE`` …); empty if fine.

        Must be quick: it runs before the submission is acknowledged.
        """
        ...

    async def save(self, inbound: Inbound, form: TaskForm) -> list[Reply]:
        """Create (no ``task_id``) or update the task; the replies confirm it."""
        ...
