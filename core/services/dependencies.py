"""Dependency-graph checks for the task service (pure: edges in, verdict out)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from core.errors import Conflict


def find_loop(
    edges: Iterable[tuple[int, int]], task_id: int, predecessors: Iterable[int]
) -> list[int] | None:
    """The loop that making ``task_id`` wait for ``predecessors`` would close, if any.

    ``edges`` are ``(predecessor, successor)`` pairs; edges into ``task_id`` are
    ignored because they are being replaced. The answer is a path of task ids in
    "waits for" order starting and ending at ``task_id``, e.g. ``[3, 1, 2, 3]``:
    #3 would wait for #1, which waits for #2, which waits for #3.
    """
    waits_for: dict[int, list[int]] = defaultdict(list)
    for predecessor, successor in edges:
        if successor != task_id:
            waits_for[successor].append(predecessor)
    for start in sorted(set(predecessors)):
        if start == task_id:
            return [task_id, task_id]
        # Breadth-first from the new predecessor: does it (transitively) wait for task_id?
        came_from: dict[int, int | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == task_id:
                path = [node]
                step = came_from[node]
                while step is not None:
                    path.append(step)
                    step = came_from[step]
                return [task_id, *reversed(path)]
            for nxt in sorted(waits_for[node]):
                if nxt not in came_from:
                    came_from[nxt] = node
                    queue.append(nxt)
    return None


def check_no_loop(
    edges: Iterable[tuple[int, int]], task_id: int, predecessors: Iterable[int]
) -> None:
    """Raise ``Conflict`` naming the loop if the new dependencies would close one."""
    loop = find_loop(edges, task_id, predecessors)
    if loop is None:
        return
    if len(loop) == 2:
        raise Conflict(
            f"Task #{task_id} cannot depend on itself.",
            hint="Pick another task for it to wait for.",
        )
    chain = " → ".join(f"#{i}" for i in loop)
    raise Conflict(
        f"Task #{task_id} cannot depend on #{loop[1]}: that would make a loop "
        f"({chain}, where → means 'waits for').",
        hint="Remove one of those dependencies first, or pick another task.",
    )
