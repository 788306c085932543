"""The hourly cap on AI-planned tasks holds when two approvals come at once (SQLite and
PostgreSQL): it is counted again inside the creating transaction, under a workspace lock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from bot.console import to_inbound
from core.errors import PermissionDenied
from core.messages import ReplyKind
from core.planning.plan import Plan, PlanStep
from core.planning.service import Carried, HourlyCap, WorkflowPlanSink

from .conftest import KEY, ZONE, say
from .fake_anthropic import Answer, FakeAnthropic
from .test_plans import step

ONE_STEP = Answer(tools=[step("a", "draft the notes")])


def plan_sink(kairos: Any, *, tasks_per_hour: int = 20) -> WorkflowPlanSink:
    """The sink approved plans go to, as ``bot.app`` wires it."""
    return WorkflowPlanSink(
        tasks=kairos.tasks,
        workflows=kairos.workflows,
        store=kairos.store,
        clock=kairos.clock,
        cap=HourlyCap(store=kairos.store, clock=kairos.clock, tasks_per_hour=tasks_per_hour),
    )


def _plan(goal: str) -> Plan:
    return Plan(goal=goal, steps=(PlanStep(key="a", title=f"{goal}: draft"),))


async def test_two_plans_created_at_once_at_the_cap_minus_one_make_one(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), llm_plan_tasks_per_hour=2)
    fake.then(ONE_STEP)
    await say(kairos, "prepare the notes")
    first = await kairos.conversation.press(
        to_inbound("", user="ana", timezone=ZONE), action="plan.approve", value="plan"
    )
    assert "with 1 tasks" in first[0].text  # one of two used: one more fits
    member = await kairos.store.ensure_member(1, "ana")
    sink = plan_sink(kairos, tasks_per_hour=2)
    # Straight to the sink, both at once: only the check inside the transaction stands.
    got = await asyncio.gather(
        sink.create(_plan("left"), actor=member),
        sink.create(_plan("right"), actor=member),
        return_exceptions=True,
    )
    made = [g for g in got if isinstance(g, Carried)]
    refused = [g for g in got if isinstance(g, PermissionDenied)]
    assert len(made) == 1 and len(refused) == 1, got
    assert "at most 2 tasks per hour" in refused[0].message
    assert "1 were created in the last hour" not in refused[0].message  # counted after the other
    assert len(await kairos.tasks.query(workspace_id=1)) == 2


async def test_two_people_approving_at_once_get_one_workflow_and_a_clear_refusal(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), llm_plan_tasks_per_hour=1)
    fake.then(ONE_STEP, ONE_STEP)
    for person in ("ana", "bob"):  # both shown while nothing is used: both pass the first check
        (shown,) = await kairos.conversation.handle(
            to_inbound("prepare the notes", user=person, timezone=ZONE)
        )
        assert shown.kind is ReplyKind.QUESTION, shown.text
    answers = await asyncio.gather(
        *(
            kairos.conversation.press(
                to_inbound("", user=person, timezone=ZONE), action="plan.approve", value="plan"
            )
            for person in ("ana", "bob")
        )
    )
    texts = sorted(reply.text for (reply,) in answers)
    assert texts[0].startswith("Created workflow"), texts
    assert texts[1].startswith("The plan was not carried out: Plans may create at most 1 tasks")
    assert len(await kairos.tasks.query(workspace_id=1)) == 1
