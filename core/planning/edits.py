"""Changing a proposed plan before it is approved: remove, rename, add a step (pure).

Steps are named by their number as shown (1-based, in the plan's order). Each
edit returns a new ``Plan``; whether the result may be carried out is decided
afterwards by ``PlanService.check``, as for the planner's own proposal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from core.errors import InvalidInput
from core.planning.plan import Plan, PlanStep


def _step(plan: Plan, number: int) -> PlanStep:
    if not 1 <= number <= len(plan.steps):
        raise InvalidInput(
            f"The plan has no step {number}; its steps are 1 to {len(plan.steps)}.",
            hint="Use the numbers of the plan as last shown.",
        )
    return plan.steps[number - 1]


def remove_step(plan: Plan, number: int) -> Plan:
    """Without step ``number``; the steps that waited for it wait for what it waited for."""
    gone = _step(plan, number)
    steps = []
    for step in plan.steps:
        if step.key == gone.key:
            continue
        if gone.key in step.after:
            inherited = [k for k in step.after if k != gone.key]
            inherited += [k for k in gone.after if k not in inherited]
            step = replace(step, after=tuple(inherited))
        steps.append(step)
    return replace(plan, steps=tuple(steps))


def rename_step(plan: Plan, number: int, title: str) -> Plan:
    """Step ``number`` with a new title (an AI step whose prompt was its title gets it too)."""
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("A step needs a title.", hint="Say e.g. 'rename step 2 to review'.")
    old = _step(plan, number)
    action: Mapping[str, Any] | None = old.action
    if action is not None:
        field = {"ai_prompt": "prompt", "notify": "message"}.get(str(action.get("type")))
        if field is not None and action.get(field) == old.title:
            action = {**action, field: title}
    renamed = replace(old, title=title, action=action)
    return replace(plan, steps=tuple(renamed if s.key == old.key else s for s in plan.steps))


def add_step(
    plan: Plan,
    title: str,
    *,
    action: Mapping[str, Any] | None = None,
    after: Sequence[int] | None = None,
    channel: str | None = None,
) -> Plan:
    """A new last step; ``after``: the numbers it waits for (``None``: the last step, ``[]``:
    nothing)."""
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("A step needs a title.", hint="Say e.g. 'add a step: review'.")
    keys: tuple[str, ...]
    if after is None:
        keys = (plan.steps[-1].key,) if plan.steps else ()
    else:
        keys = tuple(_step(plan, n).key for n in after)
    taken = {s.key for s in plan.steps}
    key = next(f"e{i}" for i in range(1, len(taken) + 2) if f"e{i}" not in taken)
    step = PlanStep(key=key, title=title, action=action, after=keys, channel=channel)
    return replace(plan, steps=(*plan.steps, step))
