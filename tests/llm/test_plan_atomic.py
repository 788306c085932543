"""An approved plan is created in one transaction: all of it, or nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from core.messages import ReplyKind
from core.models_workflows import Workflow

from .conftest import KEY, say
from .fake_anthropic import FakeAnthropic
from .test_plans import GOAL, WEEKLY, press

#: Every table an approved plan writes to.
TABLES = ("workflows", "tasks", "task_dependencies", "workflow_runs", "runs", "task_search")


async def counts(kairos: Any) -> dict[str, int]:
    out = {}
    async with kairos.db.engine.connect() as conn:
        for table in TABLES:
            out[table] = (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar()
        out["audit"] = (
            await conn.execute(
                sa.text(
                    "SELECT count(*) FROM audit_events WHERE action IN "
                    "('ai.planned', 'task.created', 'workflow.created', 'workflow.started')"
                )
            )
        ).scalar()
    return out


def violate_on(kairos: Any, method: str, *, nth: int = 1, when: Callable[..., bool] | None = None):
    """Make the ``nth`` matching call of ``kairos.store.<method>`` hit a real unique-constraint
    violation in the database (a second workflow with the plan's name), mid-transaction."""
    store = kairos.store
    real = getattr(store, method)
    seen = 0

    async def hooked(*args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        if when is None or when(*args, **kwargs):
            seen += 1
            if seen == nth:
                (taken,) = await store.list_workflows(1)
                await store.insert_workflow(Workflow(workspace_id=1, name=taken.name))
        return await real(*args, **kwargs)

    setattr(store, method, hooked)


@pytest.mark.parametrize("where", ["third step", "after the run was written"])
async def test_a_failure_in_the_middle_leaves_nothing_behind(
    open_kairos: Callable[..., Any], fake: FakeAnthropic, where: str
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    before = await counts(kairos)
    fake.then(WEEKLY)
    await say(kairos, GOAL)
    if where == "third step":
        violate_on(kairos, "set_step", nth=3)
    else:  # the very last write: the pass and its first runs are in the transaction already
        violate_on(kairos, "record_audit", when=lambda **kw: kw.get("action") == "workflow.started")
    failed = await press(kairos, "plan.approve")
    assert failed.kind is ReplyKind.ERROR, failed.text
    assert failed.text.startswith("The plan was not carried out")
    assert await counts(kairos) == before
    assert await kairos.tasks.query(workspace_id=1) == []
    assert await kairos.workflows.overview(workspace_id=1) == []


async def test_a_plan_that_goes_through_writes_everything_at_once(
    open_kairos: Callable[..., Any], fake: FakeAnthropic
) -> None:
    kairos = await open_kairos(anthropic_api_key=SecretStr(KEY))
    before = await counts(kairos)
    fake.then(WEEKLY)
    await say(kairos, GOAL)
    done = await press(kairos, "plan.approve")
    assert done.text.startswith("Created workflow"), done.text
    after = await counts(kairos)
    assert after["workflows"] - before["workflows"] == 1
    assert after["tasks"] - before["tasks"] == 3
    assert after["task_dependencies"] - before["task_dependencies"] == 2
    assert after["workflow_runs"] - before["workflow_runs"] == 1
    assert after["runs"] - before["runs"] >= 1  # the first step's run
