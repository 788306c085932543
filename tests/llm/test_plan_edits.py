"""Edit on an AI plan changes the plan: remove, rename, add steps — checked again each time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from core.errors import InvalidInput
from core.messages import ReplyKind
from core.planning.edits import add_step, remove_step, rename_step
from core.planning.plan import MAX_DEPTH, MAX_STEPS, Plan, PlanStep

from .conftest import KEY, say
from .fake_anthropic import Answer, FakeAnthropic
from .test_plans import GOAL, WEEKLY, press, step


async def test_edit_removes_renames_and_adds_steps_then_approve_creates_the_edited_plan(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.then(WEEKLY)
    await say(kairos, GOAL)
    await press(kairos, "plan.edit")
    removed = await say(kairos, "remove step 2")
    assert removed.kind is ReplyKind.QUESTION and removed.text.startswith("Changed. ")
    assert "(2 steps" in removed.text
    # The review waited for the removed post: it now waits for what the post waited for.
    assert "2. review the report [task] — after 1" in removed.text
    renamed = await say(kairos, "rename step 2 to review and send the report")
    assert "2. review and send the report [task] — after 1" in renamed.text
    added = await say(kairos, "add a step: post the summary to #team after step 1")
    assert "3. post the summary to #team [notify in #team] — after 1" in added.text
    last = await say(kairos, "add a step: thank the team")
    assert "4. thank the team [task] — after 3" in last.text  # by default after the last
    assert [b.label for b in last.buttons] == ["Approve", "Edit", "Cancel"]
    assert await kairos.tasks.query(workspace_id=1) == []  # nothing before Approve

    done = await press(kairos, "plan.approve")
    assert done.text.startswith(f"Created workflow '{GOAL}' with 4 tasks"), done.text
    tasks = sorted(await kairos.tasks.query(workspace_id=1), key=lambda t: t.id)
    by_title = {t.title: t for t in tasks}
    assert list(by_title) == [
        "summarize #eng",
        "review and send the report",
        "post the summary to #team",
        "thank the team",
    ]
    first = by_title["summarize #eng"]
    post = by_title["post the summary to #team"]
    assert by_title["review and send the report"].depends_on == [first.id]
    assert post.depends_on == [first.id] and post.channel_ref == "team"
    assert post.action == {"type": "notify", "message": "the summary"}
    assert by_title["thank the team"].depends_on == [post.id]
    assert all("edited by the requester" in t.description for t in tasks)
    assert len(fake.requests) >= 1 and "Goal:" in fake.requests[0].user_text()


async def test_edits_are_checked_like_the_proposal_and_a_refused_one_changes_nothing(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), llm_plan_tasks_per_hour=8)
    chain = [step(f"s{i}", f"stage {i}", [f"s{i - 1}"] if i > 1 else []) for i in range(1, 7)]
    fake.then(Answer(tools=chain))
    shown = await say(kairos, GOAL)
    assert "(6 steps" in shown.text
    deep = await say(kairos, "add a step: celebrate")  # after step 6: a chain of 7
    assert deep.kind is ReplyKind.ERROR and f"at most {MAX_DEPTH} are allowed" in deep.text
    assert "The plan is as it was" in deep.text and "(6 steps" in deep.text
    beside = await say(kairos, "add a step: celebrate after step 1")
    assert beside.kind is ReplyKind.QUESTION and "7. celebrate [task] — after 1" in beside.text
    unknown = await say(kairos, "remove step 9")
    assert unknown.kind is ReplyKind.ERROR and "no step 9" in unknown.text
    await say(kairos, "add a step: tidy up at the start")
    capped = await say(kairos, "add a step: one too many at the start")  # 9 > 8 per hour
    assert capped.kind is ReplyKind.ERROR and "at most 8 tasks per hour" in capped.text
    done = await say(kairos, "yes")  # the plan as it was before the refused change
    assert "with 8 tasks" in done.text, done.text
    titles = {t.title for t in await kairos.tasks.query(workspace_id=1)}
    assert "tidy up" in titles and "one too many" not in titles


def _plan(n: int) -> Plan:
    return Plan(goal="g", steps=tuple(PlanStep(key=f"s{i}", title=f"t{i}") for i in range(n)))


def test_plan_edits_are_pure_and_refuse_unknown_steps() -> None:
    plan = _plan(MAX_STEPS)
    assert len(add_step(plan, "x").steps) == MAX_STEPS + 1  # refused later, by check_plan
    with pytest.raises(InvalidInput, match="no step 21"):
        remove_step(plan, 21)
    with pytest.raises(InvalidInput, match="needs a title"):
        rename_step(plan, 1, "  ")
    added = add_step(add_step(_plan(1), "a", after=[]), "b", after=[1, 2])
    assert [s.key for s in added.steps] == ["s0", "e1", "e2"]
    assert added.steps[2].after == ("s0", "e1")
    prompt = Plan(
        goal="g",
        steps=(PlanStep(key="a", title="sum", action={"type": "ai_prompt", "prompt": "sum"}),),
    )
    assert rename_step(prompt, 1, "summarize #eng").steps[0].action == {
        "type": "ai_prompt",
        "prompt": "summarize #eng",
    }
