"""The pure loop check behind dependencies, against a brute-force reference."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import Conflict
from core.services.dependencies import check_no_loop, find_loop


def _reaches(edges: set[tuple[int, int]], start: int, goal: int) -> bool:
    """Brute force: does ``start`` wait for ``goal``, following (pred, succ) edges backwards?"""
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(p for p, s in edges if s == node)
    return False


def test_examples() -> None:
    edges = [(1, 2), (2, 3)]  # 2 waits for 1, 3 waits for 2
    assert find_loop(edges, 1, [3]) == [1, 3, 2, 1]
    assert find_loop(edges, 3, [1]) is None
    assert find_loop(edges, 4, [1, 3]) is None
    assert find_loop(edges, 2, [2]) == [2, 2]
    # Edges into the task itself are being replaced, so they cannot close a loop.
    assert find_loop([(3, 1)], 1, [2]) is None


def test_messages() -> None:
    with pytest.raises(Conflict) as info:
        check_no_loop([(1, 2)], 1, [2])
    assert info.value.user_message() == (
        "Task #1 cannot depend on #2: that would make a loop (#1 → #2 → #1, where → means "
        "'waits for'). Remove one of those dependencies first, or pick another task."
    )
    check_no_loop([(1, 2)], 2, [1])


nodes = st.integers(min_value=1, max_value=8)


@given(
    edges=st.sets(st.tuples(nodes, nodes).filter(lambda e: e[0] != e[1]), max_size=14),
    task=nodes,
    new=st.sets(nodes, max_size=3),
)
def test_agrees_with_brute_force(edges: set[tuple[int, int]], task: int, new: set[int]) -> None:
    kept = {(p, s) for p, s in edges if s != task}
    loop = find_loop(edges, task, new)
    expected = any(p == task or _reaches(kept, p, task) for p in new)
    assert (loop is not None) == expected
    if loop is not None:
        assert loop[0] == loop[-1] == task and loop[1] in new
        # Every step of the reported loop is a real "waits for" edge (or a new one).
        assert all((b, a) in kept for a, b in pairwise(loop[1:]))
