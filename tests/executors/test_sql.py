"""SQL jobs on real SQLite files and a real PostgreSQL database: read-only, timed, capped."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core.errors import InvalidInput, JobFailed, NotConfigured
from core.executors.sql import SqlExecutor, render_table

from .helpers import excerpt, job, policy

SLOW_SQLITE = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT count(*) FROM n WHERE i < 1000000000000"
)


@pytest.fixture
async def sales_url(backend: str, empty_database_url: str, tmp_path: Path) -> str:
    """A database with a ``sales`` table of 20 rows, on the parametrized backend."""
    if backend == "sqlite":
        path = tmp_path / "sales.db"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, region TEXT, amount REAL)")
            conn.executemany(
                "INSERT INTO sales (region, amount) VALUES (?, ?)",
                [("north" if i % 2 else "south", i * 10.5) for i in range(20)],
            )
        return f"sqlite:///{path}"
    import asyncpg

    url = make_url(empty_database_url)
    conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.execute(
            "CREATE TABLE sales (id serial PRIMARY KEY, region text, amount double precision)"
        )
        await conn.executemany(
            "INSERT INTO sales (region, amount) VALUES ($1, $2)",
            [("north" if i % 2 else "south", i * 10.5) for i in range(20)],
        )
    finally:
        await conn.close()
    return empty_database_url


@pytest.fixture
async def sql(sales_url: str, data_dir: Path) -> AsyncIterator[SqlExecutor]:
    executor = SqlExecutor(
        policy(
            data_dir,
            sql_connections={"sales": sales_url},
            sql_row_cap=5,
            sql_statement_timeout_seconds=1.0,
        )
    )
    yield executor
    await executor.aclose()


def _q(query: str, **extra: object) -> dict[str, object]:
    return {"type": "sql", "query": query, **extra}


async def test_rows_are_capped_stored_and_rendered(sql: SqlExecutor) -> None:
    j = job(_q("SELECT id, region, amount FROM sales ORDER BY id"))
    result = await sql.execute(j)
    assert result.result is not None
    assert result.result["columns"] == ["id", "region", "amount"]
    assert len(result.result["rows"]) == 5 and result.result["truncated"] is True
    assert result.output.startswith("5+ row(s) from sales")
    assert "id | region | amount" in excerpt(j)
    assert "(more rows not kept)" in excerpt(j)


async def test_read_only_by_default(sql: SqlExecutor) -> None:
    with pytest.raises(JobFailed) as failed:
        await sql.execute(job(_q("DELETE FROM sales")))
    assert "read" in failed.value.user_message().lower()
    rows = await sql.execute(job(_q("SELECT count(*) AS n FROM sales")))
    assert rows.result is not None and rows.result["rows"] == [[20]]


async def test_write_when_the_job_says_so(sql: SqlExecutor) -> None:
    await sql.execute(job(_q("DELETE FROM sales WHERE region = 'north'", write=True)))
    rows = await sql.execute(job(_q("SELECT count(*) FROM sales")))
    assert rows.result is not None and rows.result["rows"] == [[10]]


async def test_slow_query_is_stopped_at_the_statement_timeout(
    sql: SqlExecutor, backend: str
) -> None:
    slow = SLOW_SQLITE if backend == "sqlite" else "SELECT pg_sleep(30)"
    started = time.monotonic()
    with pytest.raises(JobFailed, match="statement timeout"):
        await sql.execute(job(_q(slow)))
    assert time.monotonic() - started < 10


async def test_bad_sql_fails_with_the_database_words(sql: SqlExecutor) -> None:
    with pytest.raises(JobFailed, match="failed"):
        await sql.execute(job(_q("SELECT nope FROM sales")))


async def test_connection_choice_and_refusals(data_dir: Path, tmp_path: Path) -> None:
    none = SqlExecutor(policy(data_dir))
    with pytest.raises(NotConfigured, match="none is configured"):
        await none.execute(job(_q("SELECT 1")))
    two = SqlExecutor(policy(data_dir, sql_connections={"a": "sqlite:///x", "b": "sqlite:///y"}))
    with pytest.raises(InvalidInput, match="Which database"):
        await two.execute(job(_q("SELECT 1")))
    with pytest.raises(NotConfigured, match="no SQL connection named 'c'"):
        await two.execute(job(_q("SELECT 1", connection="c")))
    mysql = SqlExecutor(policy(data_dir, sql_connections={"m": "mysql://u@h/db"}))
    with pytest.raises(InvalidInput, match="do not support"):
        await mysql.execute(job(_q("SELECT 1")))
    missing = SqlExecutor(policy(data_dir, sql_connections={"gone": f"sqlite:///{tmp_path}/no.db"}))
    with pytest.raises(JobFailed, match="Cannot open"):
        await missing.execute(job(_q("SELECT 1")))


async def test_unreachable_postgres_fails_the_run(data_dir: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{port}/nothing"
    executor = SqlExecutor(policy(data_dir, sql_connections={"down": url}))
    try:
        with pytest.raises(JobFailed, match="'down'"):
            await executor.execute(job(_q("SELECT 1")))
    finally:
        await executor.aclose()


def test_render_table_aligns_columns() -> None:
    text = render_table(["id", "name"], [[1, "alpha"], [22, None]])
    assert text.splitlines() == ["id | name ", "---+------", "1  | alpha", "22 |      "]
