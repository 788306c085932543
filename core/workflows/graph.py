"""The task graph of a workflow: nodes, edges, order, depth, loops (pure)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from core.errors import Conflict
from core.workflows.rules import TriggerRule


@dataclass(frozen=True, slots=True)
class Node:
    task_id: int
    title: str
    rule: TriggerRule = TriggerRule.ALL_SUCCESS
    #: A step a person does (a tracked task with no action): its run waits for them.
    person: bool = False


@dataclass(frozen=True)
class Graph:
    """Tasks and ``(predecessor, successor)`` edges; edges to unknown tasks are ignored."""

    nodes: Mapping[int, Node]
    edges: tuple[tuple[int, int], ...] = field(default=())

    @classmethod
    def of(cls, nodes: Iterable[Node], edges: Iterable[tuple[int, int]]) -> Graph:
        by_id = {n.task_id: n for n in nodes}
        kept = tuple(sorted({(p, s) for p, s in edges if p in by_id and s in by_id}))
        return cls(by_id, kept)

    @cached_property
    def preds(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for p, s in self.edges:
            out[s].append(p)
        return out

    @cached_property
    def succs(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for p, s in self.edges:
            out[p].append(s)
        return out

    @cached_property
    def order(self) -> list[int]:
        """Task ids in topological order (ties by id); the graph must have no loop."""
        indegree = {n: len(self.preds.get(n, ())) for n in self.nodes}
        ready = deque(sorted(n for n, d in indegree.items() if d == 0))
        out: list[int] = []
        while ready:
            n = ready.popleft()
            out.append(n)
            for s in self.succs.get(n, ()):
                indegree[s] -= 1
                if indegree[s] == 0:
                    ready.append(s)
        if len(out) != len(self.nodes):
            raise Conflict(
                "This workflow's tasks wait for each other in a loop.",
                hint="Remove one of the dependencies in the loop.",
            )
        return out

    @cached_property
    def depth(self) -> dict[int, int]:
        """Longest path from a root to each task (roots are 0): the layers of a drawing."""
        out: dict[int, int] = {}
        for n in self.order:
            out[n] = max((out[p] + 1 for p in self.preds.get(n, ())), default=0)
        return out

    @property
    def roots(self) -> list[int]:
        return [n for n in self.order if not self.preds.get(n)]

    def descendants(self, starts: Iterable[int], *, inclusive: bool = True) -> set[int]:
        seen: set[int] = set()
        queue = deque(s for s in starts if s in self.nodes)
        if inclusive:
            seen.update(queue)
        while queue:
            for s in self.succs.get(queue.popleft(), ()):
                if s not in seen:
                    seen.add(s)
                    queue.append(s)
        return seen

    def by_title(self, title: str) -> Node | None:
        wanted = title.strip().casefold()
        for node in self.nodes.values():
            if node.title.casefold() == wanted:
                return node
        return None


def loop_through(edges: Iterable[tuple[int, int]], predecessor: int, successor: int) -> list[int]:
    """The loop an edge ``predecessor → successor`` would close, in running order, or ``[]``.

    The answer starts and ends at ``predecessor``: ``[a, b, a]`` for ``a → b`` when
    ``b → a`` exists already.
    """
    if predecessor == successor:
        return [predecessor, predecessor]
    succs: dict[int, list[int]] = defaultdict(list)
    for p, s in edges:
        succs[p].append(s)
    came_from: dict[int, int] = {}
    queue = deque([successor])
    seen = {successor}
    while queue:
        node = queue.popleft()
        if node == predecessor:
            path = [node]
            while path[-1] != successor:
                path.append(came_from[path[-1]])
            return [predecessor, *reversed(path)]
        for nxt in sorted(succs[node]):
            if nxt not in seen:
                seen.add(nxt)
                came_from[nxt] = node
                queue.append(nxt)
    return []


def check_edge(
    edges: Iterable[tuple[int, int]],
    titles: Mapping[int, str],
    predecessor: int,
    successor: int,
) -> None:
    """Refuse an edge ``predecessor → successor`` that would close a loop, naming it."""
    loop = loop_through(edges, predecessor, successor)
    if not loop:
        return
    if len(loop) == 2:
        raise Conflict(
            f"'{titles.get(successor, successor)}' cannot come after itself.",
            hint="Pick another task for it to wait for.",
        )
    names = " → ".join(f"'{titles.get(t, f'#{t}')}'" for t in loop)
    raise Conflict(
        f"That would make a loop: {names}.",
        hint="Remove one of those dependencies first, or pick another order.",
    )
