"""A task's links to people and to other tasks: assignees and dependencies.

Resolves what callers write ("me", "alice", "U024BE7LH", "#12") to member and
task ids, registering unknown people and refusing missing tasks and loops. Runs
inside the caller's store transaction, so a refusal undoes any registration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.errors import InvalidInput, NotFound
from core.mentions import bare
from core.models import Member
from core.services.dependencies import check_no_loop
from core.services.inputs import task_numbers
from core.store import SqlStore

#: Refers to the acting member in assignee lists and queries.
ME = "me"


def looks_like_user_id(ref: str) -> bool:
    """Slack (``U024BE7LH``/``W…``) and Discord (snowflake digits) user ids."""
    return bool(re.fullmatch(r"[UW][A-Z0-9]{6,}|\d{15,21}", ref))


class TaskLinks:
    """Assignee and dependency resolution over the store (used by ``TaskService``)."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    async def assignee_ids(
        self, workspace_id: int, refs: Sequence[object], actor: Member
    ) -> list[int]:
        """Member ids for refs as written ("me", "alice", "U024BE7LH", "@U024BE7LH").

        Someone not yet known is registered in the workspace, so tasks can be
        assigned to people before they ever talk to Kairos.
        """
        ids: list[int] = []
        for ref in refs:
            text = str(ref).strip() if ref is not None else ""
            if not text:
                raise InvalidInput(
                    "One of the assignees is empty.",
                    hint="Name each person or mention them (@name).",
                )
            if text.lower() == ME:
                assert actor.id is not None
                ids.append(actor.id)
                continue
            found = await self._store.find_member(workspace_id, text)
            if found is None:
                user_id = bare(text)
                name = "" if looks_like_user_id(user_id) else user_id
                found = await self._store.ensure_member(workspace_id, user_id, display_name=name)
            assert found.id is not None
            ids.append(found.id)
        return list(dict.fromkeys(ids))

    async def platform_ids(self, workspace_id: int, member_ids: Sequence[int]) -> list[str]:
        """The platform user ids of these members, sorted (as ``TaskPublic.assignees``)."""
        members = await self._store.members_by_ids(workspace_id, member_ids)
        return sorted(m.platform_user_id for m in members)

    async def predecessor_ids(
        self, workspace_id: int, task_id: int | None, refs: Sequence[object]
    ) -> list[int]:
        """Task ids ``task_id`` may wait for: live tasks of this workspace, no loops.

        ``task_id`` is ``None`` for a task being created (nothing can wait for it yet).
        """
        ids = task_numbers(refs)
        if task_id is not None and task_id in ids:
            check_no_loop([], task_id, [task_id])
        missing = sorted(set(ids) - await self._store.existing_task_ids(workspace_id, ids))
        if len(missing) == 1:
            raise NotFound(
                f"Task #{missing[0]} does not exist, so this task cannot depend on it.",
                hint="List your tasks to see their numbers.",
            )
        if missing:
            numbers = ", ".join(f"#{i}" for i in missing)
            raise NotFound(
                f"Tasks {numbers} do not exist, so this task cannot depend on them.",
                hint="List your tasks to see their numbers.",
            )
        if task_id is not None and ids:
            check_no_loop(await self._store.dependency_edges(workspace_id), task_id, ids)
        return ids
