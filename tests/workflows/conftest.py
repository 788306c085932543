from __future__ import annotations

import pytest

from core.models import Workspace


@pytest.fixture
async def workspace_id(workspace: Workspace) -> int:
    assert workspace.id is not None
    return workspace.id
