"""``TaskQuery``: the filters for listing tasks, shared by the service and the store."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from core.enums import Priority, TaskKind, TaskStatus


class TaskQuery(BaseModel):
    """Which tasks to list. Every field left empty means "no filter on that".

    Results come overdue first (oldest due first), then by due time, then tasks
    without a due time, each group by id. Deleted tasks are left out unless
    ``include_deleted`` is set or ``statuses`` asks for ``deleted``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    statuses: frozenset[TaskStatus] | None = None
    kinds: frozenset[TaskKind] | None = None
    priorities: frozenset[Priority] | None = None
    #: A platform user id or display name as written; the service turns "me" into the actor.
    assignee: str | None = None
    due_after: AwareDatetime | None = None
    due_before: AwareDatetime | None = None
    #: Only tasks that are open and whose due time is before this instant.
    overdue_at: AwareDatetime | None = None
    #: Case-insensitive substring of the title or the description.
    text: str | None = None
    #: The chat thread / channel a task's card lives in (exact match).
    thread_ref: str | None = None
    channel_ref: str | None = None
    include_deleted: bool = False
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)

    def with_assignee(self, assignee: str | None) -> TaskQuery:
        return self.model_copy(update={"assignee": assignee})
