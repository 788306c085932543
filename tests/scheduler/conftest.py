"""Fixtures for the scheduler tests: a database per test (SQLite file and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from pathlib import Path

import pytest
from sqlmodel import SQLModel

from core.db import Database
from core.enums import Platform
from core.models import Workspace

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"



async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'kairos.db'}")
        name = None
    else:
        name = f"kairos_sched_{uuid.uuid4().hex[:10]}"
        await _pg_admin(f'CREATE DATABASE "{name}"')
        db = Database(f"postgresql://postgres@127.0.0.1:5432/{name}")
    async with db.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    try:
        yield db
    finally:
        await db.dispose()
        if name:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def workspace_id(database: Database) -> int:
    async with database.session() as session:
        ws = Workspace(platform=Platform.CONSOLE, external_id="test", name="test")
        session.add(ws)
        await session.flush()
        assert ws.id is not None
        return ws.id
