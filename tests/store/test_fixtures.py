"""The shared database fixtures: Postgres missing skips locally but fails under CI."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

CLOSED = "postgresql://postgres@127.0.0.1:1/postgres"  # nothing listens on port 1


def _conftest() -> ModuleType:
    path = Path(__file__).parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("kairos_root_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unreachable_postgres_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not reachable"):
        _conftest().require_postgres(CLOSED)


def test_unreachable_postgres_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the PostgreSQL tests"):
        _conftest().require_postgres(CLOSED)
