"""A workflow pass as text: the chat tree and Graphviz DOT (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from core.enums import RunStatus
from core.workflows.graph import Graph
from core.workflows.propagation import RunState

#: Fill colours by status (shared by the DOT text and the PNG).
COLOURS: dict[str, str] = {
    "completed": "#a6e3a1",
    "failed": "#f38ba8",
    "blocked": "#fab387",
    "skipped": "#cdd6f4",
    "cancelled": "#bac2de",
    "running": "#89dceb",
    "pending": "#f9e2af",
    "retrying": "#f9e2af",
    "not reached": "#ffffff",
}


def status_of(state: RunState | None) -> str:
    return "not reached" if state is None else str(state.status)


def label(state: RunState | None) -> str:
    """The status shown beside a step, with the reason a step did not run."""
    text = status_of(state)
    if state is not None and state.status in (RunStatus.SKIPPED, RunStatus.BLOCKED) and state.error:
        why = state.error.partition(": ")[2] or state.error
        text += f" ({why})"
    return text


def tree(graph: Graph, latest: Mapping[int, RunState], *, heading: str) -> str:
    """The graph as an indented tree from its first steps, each step with its last status.

    A step with several prerequisites appears under each of them; after the
    first time it is shown as ``(see above)`` so the tree stays finite and short.
    """
    lines = [heading]
    shown: set[int] = set()

    def walk(task_id: int, prefix: str, branch: str, child_prefix: str) -> None:
        node = graph.nodes[task_id]
        if task_id in shown:
            lines.append(f"{prefix}{branch}{node.title} (see above)")
            return
        shown.add(task_id)
        lines.append(f"{prefix}{branch}{node.title} · {label(latest.get(task_id))}")
        children = graph.succs.get(task_id, [])
        for i, child in enumerate(children):
            last = i == len(children) - 1
            walk(child, prefix + child_prefix, "└→ " if last else "├→ ", "   " if last else "│  ")

    for root in graph.roots:
        walk(root, "", "", "")
    if len(lines) == 1:
        lines.append("(no steps yet)")
    return "\n".join(lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(graph: Graph, latest: Mapping[int, RunState], *, name: str) -> str:
    """Graphviz DOT text of the graph, each step filled with its status colour."""
    lines = [
        f"digraph {_quote(name)} {{",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for task_id in graph.order:
        state = latest.get(task_id)
        text = f"{graph.nodes[task_id].title}\\n{status_of(state)}"
        colour = COLOURS[status_of(state)]
        lines.append(f'  t{task_id} [label="{_dot_label(text)}", fillcolor="{colour}"];')
    for p, s in graph.edges:
        lines.append(f"  t{p} -> t{s};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_label(text: str) -> str:
    # ``\n`` is DOT's line break: keep it, escape quotes only.
    return text.replace('"', '\\"')
