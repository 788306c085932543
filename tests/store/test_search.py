"""Full-text search (SQLite FTS5, PostgreSQL tsvector + GIN) over titles, descriptions
and comments: kept in sync on every write, ranked, scoped to the workspace."""

from __future__ import annotations

from core.enums import Platform, TaskStatus
from core.migrate import downgrade, upgrade
from core.models import Member
from core.services.tasks import TaskService
from core.store import SqlStore


async def _ids(service: TaskService, text: str, member: Member, **kw: object) -> list[int]:
    return [t.id for t in await service.search(text, workspace_id=member.workspace_id, **kw)]


async def test_titles_rank_above_descriptions_and_comments(task_service, member) -> None:
    noted = await task_service.create({"title": "rotate keys"}, actor=member)
    described = await task_service.create(
        {"title": "release notes", "description": "write them after the deploy"}, actor=member
    )
    titled = await task_service.create({"title": "deploy v2"}, actor=member)
    await task_service.create({"title": "water the plants"}, actor=member)
    await task_service.comment(noted.id, "needed before the deploy freeze", actor=member)
    found = await _ids(task_service, "deploy", member)
    assert found[0] == titled.id
    assert set(found) == {titled.id, described.id, noted.id}


async def test_stems_prefixes_and_every_word(task_service, member) -> None:
    task = await task_service.create({"title": "Deploying the billing service"}, actor=member)
    await task_service.create({"title": "billing report"}, actor=member)
    assert await _ids(task_service, "deploy", member) == [task.id]  # stem
    assert await _ids(task_service, "bill serv", member) == [task.id]  # prefixes, all words
    assert await _ids(task_service, "deploy report", member) == []


async def test_kept_in_sync_on_rename_description_and_comment(task_service, member) -> None:
    task = await task_service.create({"title": "old name"}, actor=member)
    await task_service.update(task.id, {"title": "migrate database"}, actor=member)
    assert await _ids(task_service, "old", member) == []
    assert await _ids(task_service, "migrate", member) == [task.id]
    await task_service.update(task.id, {"description": "postgres sixteen"}, actor=member)
    assert await _ids(task_service, "sixteen", member) == [task.id]
    await task_service.comment(task.id, "ask ops about downtime", actor=member)
    assert await _ids(task_service, "downtime", member) == [task.id]
    # A later description change keeps the comments in the document.
    await task_service.update(task.id, {"description": "postgres seventeen"}, actor=member)
    assert await _ids(task_service, "downtime seventeen", member) == [task.id]
    assert await _ids(task_service, "sixteen", member) == []


async def test_deleted_tasks_and_status_filters(task_service, member) -> None:
    gone = await task_service.create({"title": "deploy old"}, actor=member)
    done = await task_service.create({"title": "deploy done"}, actor=member)
    await task_service.delete(gone.id, actor=member)
    await task_service.complete(done.id, actor=member)
    assert await _ids(task_service, "deploy", member) == [done.id]
    live = frozenset({TaskStatus.OPEN})
    assert await _ids(task_service, "deploy", member, statuses=live) == []


async def test_scoped_to_the_workspace(task_service, store: SqlStore, member) -> None:
    other = await store.ensure_workspace(Platform.SLACK, "T0999")
    assert other.id is not None
    stranger = await store.ensure_member(other.id, "U0999")
    theirs = await task_service.create({"title": "deploy theirs"}, actor=stranger)
    ours = await task_service.create({"title": "deploy ours"}, actor=member)
    assert await _ids(task_service, "deploy", member) == [ours.id]
    assert await _ids(task_service, "deploy", stranger) == [theirs.id]


async def test_query_syntax_is_never_interpreted(task_service, member) -> None:
    await task_service.create({"title": "deploy (v2) NOT now"}, actor=member)
    for text in ['"', "*", "deploy OR", "NEAR(a b)", "a:*&!b", "'; drop table tasks; --", ""]:
        await _ids(task_service, text, member)  # no error, whatever it finds


async def test_the_migration_indexes_what_is_already_there(empty_database_url, clock) -> None:
    """Tasks and comments written before 0011 are searchable right after it."""
    from core.db import Database

    await upgrade(empty_database_url)
    database = Database(empty_database_url)
    try:
        store = SqlStore(database)
        service = TaskService(store=store, clock=clock)
        workspace = await store.ensure_workspace(Platform.SLACK, "T0001")
        assert workspace.id is not None
        member = await store.ensure_member(workspace.id, "U0001")
        task = await service.create({"title": "rotate keys"}, actor=member)
        await service.comment(task.id, "before the deploy", actor=member)
    finally:
        await database.dispose()
    await downgrade(empty_database_url, "0006")
    await upgrade(empty_database_url)
    database = Database(empty_database_url)
    try:
        service = TaskService(store=SqlStore(database), clock=clock)
        assert await _ids(service, "deploy", member) == [task.id]
        assert await _ids(service, "rotate", member) == [task.id]
    finally:
        await database.dispose()
