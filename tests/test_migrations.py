"""Migrations: empty → head → base → head on SQLite and PostgreSQL, and no drift from the models."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from core.db import create_engine
from core.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    load_models,
    upgrade,
)
from core.models_search import include_object, unmodelled

HERE = Path(__file__).resolve().parent
load_models()
TABLES = set(SQLModel.metadata.tables)
CORE_TABLES = {
    "workspaces", "members", "tasks", "task_assignees", "task_dependencies",
    "runs", "run_events", "audit_events",
}  # fmt: skip


async def _inspect(url: str, fn: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


def _tables(connection: Connection) -> set[str]:
    names = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
    return {n for n in names if not unmodelled(n)}  # SQLite's FTS5 tables


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": include_object}
    )
    return list(compare_metadata(context, SQLModel.metadata))


def test_revisions_form_one_readable_chain() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    assert len(scripts.get_heads()) == 1, "two migration heads: renumber the newer one"
    chain = [s.revision for s in scripts.walk_revisions("base", "heads")][::-1]
    assert chain[0] == "0001"
    assert chain == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    assert head_revision() == chain[-1]
    assert CORE_TABLES <= TABLES


async def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    url = empty_database_url
    assert await current_revision(url) is None
    await upgrade(url)
    assert await current_revision(url) == head_revision()
    assert await _inspect(url, _tables) == TABLES
    await upgrade(url)  # at head already: nothing to do, no error
    await downgrade(url, "base")
    assert await current_revision(url) is None
    assert await _inspect(url, _tables) == set()
    await upgrade(url, "0001")
    assert await current_revision(url) == "0001"
    assert await _inspect(url, _tables) == CORE_TABLES
    await upgrade(url)
    assert await _inspect(url, _tables) == TABLES


async def test_replicas_starting_together_each_migrate_without_a_race(
    empty_database_url: str,
) -> None:
    """Three processes migrate one empty database at the same moment (replicas of a
    deployment started together): all succeed, the schema is whole, once."""
    if empty_database_url.startswith("sqlite"):
        pytest.skip("replicas share PostgreSQL; SQLite is one server process (docs/operations.md)")
    script = HERE / "migrate_proc.py"
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            empty_database_url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        for _ in range(3)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line.strip() == b"ready"
        for proc in procs:  # go, all at once
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        results = [await asyncio.wait_for(proc.communicate(), 120) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
        assert out.strip() == b"migrated"
    assert await current_revision(empty_database_url) == head_revision()
    assert await _inspect(empty_database_url, _tables) == TABLES


async def test_schema_matches_the_models(database_url: str) -> None:
    assert await _inspect(database_url, _diff) == []


async def test_migrations_ship_inside_the_package() -> None:
    from importlib.resources import files

    versions = files("core") / "migrations" / "versions"
    assert (versions / "0001_initial.py").is_file()
    assert (files("core") / "migrations" / "env.py").is_file()
    assert (files("core") / "migrations" / "script.py.mako").is_file()
