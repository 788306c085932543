"""``ClaudePlanner``: Claude proposes a plan through tool use (one ``add_step`` call per step).

Kairos reads the ``tool_use`` blocks into a ``core.planning.plan.Plan``; whether
the plan may be carried out is decided by ``core.planning.service.PlanService``,
never by the model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from core.errors import ModelUnavailable
from core.planning.plan import Plan, PlanStep
from integrations.llm.client import ClaudeClient
from prompts import load


class StepInput(BaseModel):
    """The ``add_step`` tool's input."""

    key: str = Field(min_length=1, max_length=20)
    title: str = Field(min_length=1, max_length=200)
    action: Literal["ai_prompt", "http", "sql", "shell", "digest", "notify", "none"] = "none"
    prompt: str | None = None
    url: str | None = None
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    query: str | None = None
    command: str | None = None
    message: str | None = None
    after: list[str] = Field(default_factory=list)

    def step(self) -> PlanStep:
        fields: dict[str, Any] = {
            "ai_prompt": {"prompt": self.prompt or self.title},
            "http": {"url": self.url or "", "method": self.method},
            "sql": {"query": self.query or ""},
            "shell": {"command": self.command or ""},
            "digest": {},
            "notify": {"message": self.message or self.title},
        }.get(self.action, {})
        action = None if self.action == "none" else {"type": self.action, **fields}
        return PlanStep(key=self.key, title=self.title, action=action, after=tuple(self.after))


ADD_STEP: dict[str, Any] = {
    "name": "add_step",
    "description": "Add one step to the plan (call once per step, prerequisites first).",
    "input_schema": StepInput.model_json_schema(),
}


class ClaudePlanner:
    """Plans a goal into steps with Claude's tool use."""

    def __init__(self, *, client: ClaudeClient) -> None:
        self._client = client
        self._prompt = load("plan")

    async def plan(self, goal: str, *, workspace_id: int | None) -> Plan:
        """Claude's proposal for ``goal``; raises ``ModelUnavailable`` without usable steps."""
        message = await self._client.message(
            purpose="plan",
            system=self._prompt.render(),
            messages=[{"role": "user", "content": f"Goal: {goal}"}],
            tools=[ADD_STEP],
            workspace_id=workspace_id,
            max_tokens=2048,
        )
        steps: list[PlanStep] = []
        for block in message.content:
            if block.type == "tool_use" and block.name == "add_step":
                try:
                    steps.append(StepInput.model_validate(block.input).step())
                except ValidationError as exc:
                    raise ModelUnavailable(
                        f"Claude proposed a step Kairos cannot read ({exc.error_count()} errors).",
                        hint="Try again, or describe the goal differently.",
                    ) from exc
        if not steps:
            raise ModelUnavailable(
                "Claude proposed no steps.", hint="Describe the goal in more detail."
            )
        return Plan(goal=goal, steps=tuple(steps), planner=message.model)
