from __future__ import annotations

import pytest

from core.clock import ManualClock
from core.models import Workspace
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.passes import PassStore
from core.store.runs import RunStore
from core.workflows.service import WorkflowService


@pytest.fixture
async def workspace_id(workspace: Workspace) -> int:
    assert workspace.id is not None
    return workspace.id


@pytest.fixture
def workflows(store: SqlStore, clock: ManualClock, task_service: TaskService) -> WorkflowService:
    runs = RunStore(store.db)
    return WorkflowService(
        store=store, passes=PassStore(store.db, runs), tasks=task_service, clock=clock
    )
