"""A workflow pass as a PNG, drawn with matplotlib (no graphviz binary needed).

Layered layout: a step's column is its depth (the longest path from a first
step), its row its place among the steps of that depth, ordered by their
prerequisites' rows so that edges cross less.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from core.workflows.graph import Graph
from core.workflows.propagation import RunState
from core.workflows.views import COLOURS, status_of

_BOX_W, _BOX_H = 2.2, 0.8
_COL, _ROW = 3.0, 1.3


def positions(graph: Graph) -> dict[int, tuple[float, float]]:
    """``task id → (x, y)`` centres, layered by depth."""
    layers: dict[int, list[int]] = {}
    for task_id in graph.order:
        layers.setdefault(graph.depth[task_id], []).append(task_id)
    row: dict[int, float] = {}
    out: dict[int, tuple[float, float]] = {}
    for depth in sorted(layers):
        members = layers[depth]
        members.sort(
            key=lambda t: (
                sum(row[p] for p in graph.preds.get(t, ())) / max(1, len(graph.preds.get(t, ())))
            )
        )
        offset = (len(members) - 1) / 2
        for i, task_id in enumerate(members):
            row[task_id] = i
            out[task_id] = (depth * _COL, (offset - i) * _ROW)
    return out


def png(graph: Graph, latest: Mapping[int, RunState], *, name: str) -> bytes:
    """The graph as PNG bytes, each step filled with the colour of its last status."""
    # A ``Figure`` of its own per drawing (not pyplot's global state): safe in a thread,
    # and drawn by the Agg canvas — no display needed on servers. Imported here:
    # matplotlib (and numpy) take about a second to import.
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    where = positions(graph)
    xs = [x for x, _ in where.values()] or [0.0]
    ys = [y for _, y in where.values()] or [0.0]
    width = max(4.0, (max(xs) - min(xs)) / _COL * 2.4 + 3.0)
    height = max(2.5, (max(ys) - min(ys)) / _ROW * 0.9 + 2.0)
    fig = Figure(figsize=(min(width, 40.0), min(height, 40.0)), dpi=100)
    ax = fig.subplots()
    ax.set_title(name)
    ax.axis("off")
    for p, s in graph.edges:
        (x1, y1), (x2, y2) = where[p], where[s]
        ax.annotate(
            "",
            xy=(x2 - _BOX_W / 2, y2),
            xytext=(x1 + _BOX_W / 2, y1),
            arrowprops={"arrowstyle": "->", "color": "#45475a", "lw": 1.2},
        )
    for task_id, (x, y) in where.items():
        status = status_of(latest.get(task_id))
        ax.add_patch(
            FancyBboxPatch(
                (x - _BOX_W / 2, y - _BOX_H / 2),
                _BOX_W,
                _BOX_H,
                boxstyle="round,pad=0.05",
                facecolor=COLOURS[status],
                edgecolor="#313244",
            )
        )
        title = graph.nodes[task_id].title
        short = title if len(title) <= 22 else title[:21] + "…"
        ax.text(x, y + 0.12, short, ha="center", va="center", fontsize=9, weight="bold")
        ax.text(x, y - 0.2, status, ha="center", va="center", fontsize=8)
    ax.set_xlim(min(xs) - _BOX_W, max(xs) + _BOX_W)
    ax.set_ylim(min(ys) - _BOX_H * 1.5, max(ys) + _BOX_H * 1.5)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
