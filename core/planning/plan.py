"""A plan: steps using Kairos's actions, with prerequisites — and the pure checks on it.

A planner (Claude, ``integrations.llm.planner``) proposes; these checks decide.
They bound the plan's size (``MAX_STEPS``) and depth (``MAX_DEPTH``: the longest
chain of prerequisites), and refuse unknown or cyclic prerequisites.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput

#: At most this many steps in one plan.
MAX_STEPS = 20
#: At most this many steps in one chain of prerequisites.
MAX_DEPTH = 6
#: The actions a step may use (``None``: a plain tracked task).
STEP_ACTIONS = frozenset({"notify", "http", "sql", "shell", "ai_prompt", "digest"})


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One step: a task, with an action when it does something, after its prerequisites."""

    key: str
    title: str
    action: Mapping[str, Any] | None = None
    after: tuple[str, ...] = ()
    #: Where the step's task lives and posts (a channel as said), when not the requester's.
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """What a planner proposes for a goal."""

    goal: str
    steps: tuple[PlanStep, ...]
    #: Who planned it (a model name), recorded on every task it creates.
    planner: str = ""
    notes: tuple[str, ...] = field(default=())


def depth(steps: Sequence[PlanStep]) -> int:
    """The longest chain of prerequisites (1 for steps with none); raises on a cycle."""
    by_key = {step.key: step for step in steps}
    memo: dict[str, int] = {}

    def level(key: str, seen: frozenset[str]) -> int:
        if key in seen:
            raise InvalidInput(f"The plan's steps wait for each other in a circle ({key}).")
        if key not in memo:
            after = by_key[key].after
            memo[key] = 1 + max((level(k, seen | {key}) for k in after), default=0)
        return memo[key]

    return max((level(step.key, frozenset()) for step in steps), default=0)


def check_plan(plan: Plan) -> None:
    """Refuse a plan that is empty, too large, too deep, cyclic or refers to unknown steps."""
    steps = plan.steps
    if not steps:
        raise InvalidInput("The plan has no steps.", hint="Describe the goal in more detail.")
    if len(steps) > MAX_STEPS:
        raise InvalidInput(
            f"The plan has {len(steps)} steps; at most {MAX_STEPS} are allowed.",
            hint="Split the goal into smaller ones.",
        )
    keys = [step.key for step in steps]
    if len(set(keys)) != len(keys):
        raise InvalidInput("Two steps of the plan have the same key.")
    for step in steps:
        unknown = [key for key in step.after if key not in keys]
        if unknown:
            raise InvalidInput(f"Step {step.key!r} waits for unknown steps: {', '.join(unknown)}.")
        kind = step.action.get("type") if step.action else None
        if kind is not None and kind not in STEP_ACTIONS:
            raise InvalidInput(f"Step {step.key!r} uses the unknown action {kind!r}.")
    deepest = depth(steps)
    if deepest > MAX_DEPTH:
        raise InvalidInput(
            f"The plan chains {deepest} steps one after another; at most {MAX_DEPTH} are allowed.",
            hint="Ask for a flatter plan.",
        )


def ordered(steps: Sequence[PlanStep]) -> list[PlanStep]:
    """Steps with every prerequisite before the steps waiting for it (stable otherwise)."""
    done: set[str] = set()
    out: list[PlanStep] = []
    pending = list(steps)
    while pending:
        ready = [s for s in pending if set(s.after) <= done]
        if not ready:
            raise InvalidInput("The plan's steps wait for each other in a circle.")
        for step in ready:
            out.append(step)
            done.add(step.key)
        pending = [s for s in pending if s.key not in done]
    return out
