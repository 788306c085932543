"""Shared fixtures: real databases (SQLite and PostgreSQL), the store, people, services.

Fixtures any test may use (most are parametrized over both backends, so a test
that asks for ``store`` runs twice: ``[sqlite]`` and ``[postgres]``):

``backend``
    ``"sqlite"`` or ``"postgres"`` (the parameter).
``empty_database_url``
    URL of a fresh, empty database of that backend (SQLite: a file under
    ``tmp_path``; PostgreSQL: a uniquely named database, dropped afterwards).
``database_url``
    The same, migrated to head with ``core.migrate.upgrade``.
``database``
    A ``core.db.Database`` on ``database_url`` (disposed afterwards).
``sqlite_database``
    Like ``database`` but SQLite only, for tests that do not care about the backend.
``store``
    A ``core.store.SqlStore`` on ``database``.
``clock``
    A ``core.clock.ManualClock`` at ``T0`` (2026-03-02 09:00 UTC, a Monday).
``workspace``
    A Slack ``Workspace`` (external id ``T0001``, default zone Europe/Berlin).
``member`` / ``other_member``
    Members of ``workspace``: ``alice`` (``U0001``, admin, Europe/Berlin) and
    ``bob`` (``U0002``, member, America/New_York).
``listener``
    A ``RecordingListener`` (a ``TaskListener`` that records the task ids it is told about).
``task_service``
    A ``core.services.tasks.TaskService`` over ``store``, ``clock`` and ``listener``.

PostgreSQL is expected on ``127.0.0.1:5432`` (user ``postgres``, trust auth);
override with ``KAIROS_TEST_PG_DSN`` (a DSN to the ``postgres`` maintenance
database). When it cannot be reached the PostgreSQL cases are skipped — except
when the ``CI`` environment variable is set, where they fail: CI never skips
silently.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core.clock import ManualClock
from core.db import Database
from core.enums import Platform, Role
from core.migrate import upgrade
from core.models import Member, Workspace
from core.services.tasks import TaskService
from core.store import SqlStore

PG_ADMIN_DSN = os.environ.get("KAIROS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _postgres_reachable(dsn: str = PG_ADMIN_DSN) -> bool:
    url = make_url(dsn)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=2):
            return True
    except OSError:
        return False


def require_postgres(dsn: str = PG_ADMIN_DSN) -> None:
    """Skip (locally) or fail (under ``CI``) when PostgreSQL is not reachable."""
    if _postgres_reachable(dsn):
        return
    reason = f"PostgreSQL is not reachable at {make_url(dsn).render_as_string()}"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the PostgreSQL tests.", pytrace=False)
    pytest.skip(reason)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(make_url(PG_ADMIN_DSN).render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgres":
        require_postgres()
    return name


@pytest.fixture
async def empty_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'kairos.db'}"
        return
    name = f"kairos_test_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_DSN).set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: a test that leaked a connection must not leave the database behind.
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    await upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'kairos-sqlite.db'}"
    await upgrade(url)
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def store(database: Database) -> SqlStore:
    return SqlStore(database)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def workspace(store: SqlStore) -> Workspace:
    return await store.ensure_workspace(
        Platform.SLACK, "T0001", name="Acme", default_timezone="Europe/Berlin"
    )


@pytest.fixture
async def member(store: SqlStore, workspace: Workspace) -> Member:
    assert workspace.id is not None
    return await store.ensure_member(
        workspace.id, "U0001", display_name="alice", timezone="Europe/Berlin", role=Role.ADMIN
    )


@pytest.fixture
async def other_member(store: SqlStore, workspace: Workspace) -> Member:
    assert workspace.id is not None
    return await store.ensure_member(
        workspace.id, "U0002", display_name="bob", timezone="America/New_York"
    )


class RecordingListener:
    """A ``TaskListener`` that remembers which tasks it was told about, in order."""

    def __init__(self) -> None:
        self.changed: list[int] = []

    async def task_changed(self, task_id: int) -> None:
        self.changed.append(task_id)


@pytest.fixture
def listener() -> RecordingListener:
    return RecordingListener()


@pytest.fixture
def task_service(store: SqlStore, clock: ManualClock, listener: RecordingListener) -> TaskService:
    return TaskService(store=store, clock=clock, listener=listener)
