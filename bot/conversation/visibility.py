"""Who may see a task: the one rule every surface applies (lists, buttons, autocomplete)."""

from __future__ import annotations

from core.models import Member, TaskPublic


def may_see(task: TaskPublic, member: Member) -> bool:
    """Private tasks (made in a DM) are seen by their creator and assignees only."""
    if not task.private:
        return True
    return task.created_by == member.id or member.platform_user_id in task.assignees
