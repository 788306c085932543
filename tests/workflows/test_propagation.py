"""One pass through a graph: release, transitive skip/block, reruns, endings (pure)."""

from __future__ import annotations

import pytest

from core.enums import RunStatus
from core.errors import Conflict
from core.workflows.graph import Graph, Node, check_edge
from core.workflows.propagation import Pass, RunState
from core.workflows.rules import FailureMode, TriggerRule, Verdict

OK, BAD = RunStatus.COMPLETED, RunStatus.FAILED


def graph(edges: str, rules: dict[str, TriggerRule] | None = None) -> tuple[Graph, dict[str, int]]:
    """``"a>b a>c b>d c>d"`` → a graph with ids 1, 2, … in order of appearance."""
    ids: dict[str, int] = {}
    pairs = []
    for edge in edges.split():
        p, s = edge.split(">")
        for name in (p, s):
            ids.setdefault(name, len(ids) + 1)
        pairs.append((ids[p], ids[s]))
    rules = rules or {}
    nodes = [Node(i, n, rules.get(n, TriggerRule.ALL_SUCCESS)) for n, i in ids.items()]
    return Graph.of(nodes, pairs), ids


def names(g: Graph, released: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(g.nodes[r.task_id].title, r.decision.verdict.value) for r in released]


def test_branches_run_side_by_side_and_the_join_waits_for_both() -> None:
    g, ids = graph("a>b a>c b>d c>d")
    p = Pass(g, {ids["a"]: RunState(1, OK)}, {ids["a"]: 1})
    assert names(g, p.release([ids["a"]])) == [("b", "run"), ("c", "run")]
    p.latest[ids["b"]] = RunState(4, OK)
    assert p.release([ids["b"]]) == []  # c is still pending
    p.latest[ids["c"]] = RunState(5, OK)
    assert names(g, p.release([ids["c"]])) == [("d", "run")]
    assert p.ending() is None
    p.latest[ids["d"]] = RunState(7, OK)
    ending = p.ending()
    assert ending is not None and not ending.failed


def test_a_failure_blocks_everything_after_it_and_each_run_says_why() -> None:
    g, ids = graph("build>test test>deploy deploy>announce")
    p = Pass(g, {ids["build"]: RunState(41, BAD)}, {ids["build"]: 41})
    released = p.release([ids["build"]])
    assert [(g.nodes[r.task_id].title, r.decision.reason) for r in released] == [
        ("test", "blocked: 'build' failed in run 41"),
        ("deploy", "blocked: 'build' failed in run 41 (via 'test')"),
        ("announce", "blocked: 'build' failed in run 41 (via 'deploy')"),
    ]
    ending = p.ending()
    assert ending is not None and ending.failed and ending.failed_step == "build"


def test_skip_mode_skips_instead() -> None:
    g, ids = graph("build>test test>deploy")
    p = Pass(g, {ids["build"]: RunState(41, BAD)}, {ids["build"]: 41}, FailureMode.SKIP)
    released = p.release([ids["build"]])
    assert [r.decision.verdict for r in released] == [Verdict.SKIP, Verdict.SKIP]
    assert released[0].decision.reason == "skipped: 'build' failed in run 41"


def test_a_cleanup_step_with_all_done_runs_after_a_failure() -> None:
    g, ids = graph("a>b b>cleanup", {"cleanup": TriggerRule.ALL_DONE})
    p = Pass(g, {ids["a"]: RunState(1, OK)}, {ids["a"]: 1})
    p.release([ids["a"]])
    p.latest[ids["b"]] = RunState(3, BAD)
    assert names(g, p.release([ids["b"]])) == [("cleanup", "run")]


def test_one_success_releases_once_even_when_a_later_prerequisite_finishes() -> None:
    g, ids = graph("a>d b>d x>b", {"d": TriggerRule.ONE_SUCCESS})
    latest = {ids["a"]: RunState(1, OK), ids["x"]: RunState(2, RunStatus.RUNNING)}
    p = Pass(g, latest, {ids["a"]: 1, ids["x"]: 2})
    assert names(g, p.release([ids["a"]])) == [("d", "run")]
    p.latest[ids["x"]] = RunState(2, OK)
    assert names(g, p.release([ids["x"]])) == [("b", "run")]  # released after d
    p.latest[ids["b"]] = RunState(p.latest[ids["b"]].run_id, OK)
    assert p.release([ids["b"]]) == []  # d ran in this pass already


def test_a_rerun_makes_every_later_step_wait_for_it_again() -> None:
    # r → f → s and r → x → y → s: after rerunning r, f finishing must not release s
    # on y's old (out of date) success.
    g, ids = graph("r>f f>s r>x x>y y>s")
    latest = {ids[n]: RunState(i, OK) for i, n in enumerate(["r", "f", "x", "y", "s"], 1)}
    latest[ids["r"]] = RunState(10, OK)  # the rerun, newer than everything after it
    p = Pass(g, latest, {ids["r"]: 10})
    assert names(g, p.release([ids["r"]])) == [("f", "run"), ("x", "run")]
    f_run = p.latest[ids["f"]].run_id
    p.latest[ids["f"]] = RunState(f_run, OK)
    assert p.release([ids["f"]]) == []  # y is out of date: s waits
    p.latest[ids["x"]] = RunState(p.latest[ids["x"]].run_id, OK)
    assert names(g, p.release([ids["x"]])) == [("y", "run")]
    p.latest[ids["y"]] = RunState(p.latest[ids["y"]].run_id, OK)
    assert names(g, p.release([ids["y"]])) == [("s", "run")]


def test_a_pass_started_at_one_step_covers_only_what_follows_it() -> None:
    g, ids = graph("export>report other>report")
    p = Pass(g, {ids["export"]: RunState(1, OK)}, {ids["export"]: 1}, start_task_id=ids["export"])
    assert names(g, p.release([ids["export"]])) == [("report", "run")]


def test_loops_are_refused_with_the_loop_named() -> None:
    titles = {1: "a", 2: "b", 3: "c"}
    with pytest.raises(Conflict, match=r"That would make a loop: 'b' → 'a' → 'b'\."):
        check_edge([(1, 2)], titles, 2, 1)
    with pytest.raises(Conflict, match=r"'c' → 'a' → 'b' → 'c'"):
        check_edge([(1, 2), (2, 3)], titles, 3, 1)
    with pytest.raises(Conflict, match="cannot come after itself"):
        check_edge([], titles, 1, 1)
    check_edge([(1, 2), (2, 3)], titles, 1, 3)  # a shortcut is no loop


def test_depth_orders_the_layers() -> None:
    g, ids = graph("a>b a>c b>d c>d a>d")
    assert [g.depth[ids[n]] for n in "abcd"] == [0, 1, 1, 2]
