"""AI-planned workflows: Claude plans through tool use, Kairos checks, shows and creates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr
from waiting import eventually

from bot.console import to_inbound
from core.enums import RunStatus
from core.errors import InvalidInput
from core.messages import ReplyKind
from core.planning.plan import MAX_DEPTH, MAX_STEPS, Plan, PlanStep, check_plan

from .conftest import KEY, ZONE, say
from .fake_anthropic import Answer, FakeAnthropic

GOAL = "prepare the weekly report"


def step(key: str, title: str, after: list[str] | None = None, **action: Any) -> dict[str, Any]:
    return {
        "name": "add_step",
        "input": {"key": key, "title": title, "after": after or [], **action},
    }


WEEKLY = Answer(
    tools=[
        step("s1", "summarize #eng", action="ai_prompt", prompt="summarize this week in #eng"),
        step("s2", "post the report", ["s1"], action="notify", message="The weekly report"),
        step("s3", "review the report", ["s2"]),
    ]
)


async def press(kairos: Any, action: str) -> Any:
    (reply,) = await kairos.conversation.press(
        to_inbound("", user="ana", timezone=ZONE), action=action, value="plan"
    )
    return reply


async def test_a_plan_is_shown_then_approved_into_a_workflow_that_runs(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.then(WEEKLY)
    fake.default = Answer(text="This week: 3 merges.")  # the ai_prompt step, run at once
    shown = await say(kairos, GOAL)
    assert shown.kind is ReplyKind.QUESTION
    assert [b.label for b in shown.buttons] == ["Approve", "Edit", "Cancel"]
    assert "1. summarize #eng [ai_prompt]" in shown.text
    assert "3. review the report [task] — after 2" in shown.text
    assert await kairos.tasks.query(workspace_id=1) == []  # nothing before Approve
    assert await kairos.workflows.overview(workspace_id=1) == []
    request = fake.requests[0]
    assert [t["name"] for t in request.body["tools"]] == ["add_step"]
    assert request.system_blocks()[0]["cache_control"] == {"type": "ephemeral"}
    assert "Goal: prepare the weekly report" in request.user_text()

    done = await press(kairos, "plan.approve")
    assert done.text.startswith(f"Created workflow '{GOAL}' with 3 tasks from the plan")
    tasks = sorted(await kairos.tasks.query(workspace_id=1), key=lambda t: t.id)
    first, second, third = tasks
    assert first.action == {"type": "ai_prompt", "prompt": "summarize this week in #eng"}
    assert second.depends_on == [first.id] and third.depends_on == [second.id]
    assert all(t.description.startswith("Planned by AI (claude-test)") for t in tasks)
    for task in tasks:
        events = [e.action for e in await kairos.tasks.history(task.id, workspace_id=1)]
        assert "ai.planned" in events

    # The workflow engine runs it: the AI step first, then the post after it; the
    # review (a person's task) waits for a person.
    workflow = await kairos.workflows.show(GOAL, workspace_id=1)
    assert sorted(workflow.graph.nodes) == [t.id for t in tasks]

    async def passed() -> Any:
        view = (await kairos.workflows.show(GOAL, workspace_id=1)).view
        state = view.latest if view else {}
        ok = all(
            t.id in state and state[t.id].status is RunStatus.COMPLETED for t in (first, second)
        )
        return ok and view

    view = await eventually(passed)
    assert view.latest[third.id].status is RunStatus.PENDING
    ran = [r for r in fake.requests if "summarize this week in #eng" in r.user_text()]
    assert len(ran) == 1  # the ai_prompt executor asked Claude once
    one = (await kairos.runs.runs_for(first.id))[0]
    two = (await kairos.runs.runs_for(second.id))[0]
    assert one.finished_at is not None and two.started_at is not None
    assert one.finished_at <= two.started_at  # in order: the post waited for the summary
    again = await press(kairos, "plan.approve")
    assert again.kind is ReplyKind.ERROR  # approved once: nothing waits any more


async def test_cancel_and_no_create_nothing_and_edit_keeps_the_plan_to_change(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.then(WEEKLY, WEEKLY, WEEKLY)
    await say(kairos, GOAL)
    assert (await press(kairos, "plan.cancel")).text == "Plan cancelled; nothing was created."
    await say(kairos, GOAL)
    assert (await say(kairos, "no")).text == "Plan cancelled; nothing was created."
    await say(kairos, GOAL)
    edit = await press(kairos, "plan.edit")
    assert edit.kind is ReplyKind.QUESTION and "'remove step 3'" in edit.text
    assert "3. review the report [task] — after 2" in edit.text  # the plan, to edit
    assert [b.label for b in edit.buttons] == ["Approve", "Cancel"]
    assert await kairos.tasks.query(workspace_id=1) == []
    assert (await say(kairos, "no")).text == "Plan cancelled; nothing was created."


async def test_yes_approves_and_a_dry_run_creates_nothing(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    fake.then(WEEKLY)
    shown = await say(kairos, "dry run: " + GOAL)
    assert "Dry run" in shown.text
    dry = await say(kairos, "yes")
    assert dry.text.startswith("Dry run: the plan passes every check")
    assert await kairos.tasks.query(workspace_id=1) == []
    assert await kairos.workflows.overview(workspace_id=1) == []
    assert "Goal: prepare the weekly report" in fake.requests[0].user_text()


async def test_shell_and_sql_steps_are_refused_when_the_requester_may_not_create_them(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), shell_allow="*")
    fake.then(
        Answer(tools=[step("s1", "dump the db", action="shell", command="pg_dump prod")]),
        Answer(tools=[step("s1", "count users", action="sql", query="SELECT count(*) FROM u")]),
    )
    shell = await say(kairos, "prepare a database dump")
    # ana is a member: only admins may create shell and SQL jobs.
    assert shell.kind is ReplyKind.ERROR and "I can't carry it out" in shell.text
    assert "Only workspace admins may create shell jobs" in shell.text
    sql = await say(kairos, "prepare the user count")
    assert sql.kind is ReplyKind.ERROR and "may create sql jobs" in sql.text
    assert await press(kairos, "plan.approve")  # nothing was proposed
    assert await kairos.tasks.query(workspace_id=1) == []


async def test_tasks_per_hour_are_capped_per_workspace(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY), llm_plan_tasks_per_hour=4)
    plain = Answer(tools=[step("a", "draft"), step("b", "review", ["a"]), step("c", "send", ["b"])])
    fake.then(plain, plain)
    await say(kairos, GOAL)
    assert "with 3 tasks" in (await press(kairos, "plan.approve")).text
    refused = await say(kairos, GOAL)
    assert refused.kind is ReplyKind.ERROR
    assert "at most 4 tasks per hour" in refused.text and "3 were created" in refused.text
    assert len(await kairos.tasks.query(workspace_id=1)) == 3


async def test_plan_with_a_time_is_a_task_not_a_workflow(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    reply = await say(kairos, "prepare the slides by Friday 5pm")
    assert reply.kind is ReplyKind.CONFIRMATION and "Plan for" not in reply.text
    assert all("add_step" not in str(r.body.get("tools")) for r in fake.requests)


async def test_without_a_key_prepare_is_an_ordinary_message(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos()
    reply = await say(kairos, GOAL)
    assert "Plan for" not in reply.text and fake.requests == []


def _plan(steps: list[PlanStep]) -> Plan:
    return Plan(goal="g", steps=tuple(steps))


def test_plans_are_bounded_in_size_and_depth_and_must_be_acyclic() -> None:
    wide = [PlanStep(key=f"s{i}", title="t") for i in range(MAX_STEPS + 1)]
    with pytest.raises(InvalidInput, match="at most 20"):
        check_plan(_plan(wide))
    check_plan(_plan(wide[:MAX_STEPS]))
    chain = [
        PlanStep(key=f"s{i}", title="t", after=(f"s{i - 1}",) if i else ())
        for i in range(MAX_DEPTH + 1)
    ]
    with pytest.raises(InvalidInput, match="chains 7 steps"):
        check_plan(_plan(chain))
    check_plan(_plan(chain[:MAX_DEPTH]))
    loop = [PlanStep(key="a", title="t", after=("b",)), PlanStep(key="b", title="t", after=("a",))]
    with pytest.raises(InvalidInput, match="circle"):
        check_plan(_plan(loop))
    with pytest.raises(InvalidInput, match="unknown steps"):
        check_plan(_plan([PlanStep(key="a", title="t", after=("zz",))]))
    with pytest.raises(InvalidInput, match="no steps"):
        check_plan(_plan([]))
