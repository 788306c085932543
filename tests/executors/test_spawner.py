"""The spawn server: jobs inherit its limits; losing it fails the running job, never hangs it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from pathlib import Path

import pytest
from waiting import eventually

import core.executors.shell as shell
from core.errors import JobFailed
from core.executors.shell import ShellExecutor
from core.executors.spawner import SpawnServer

from .helpers import LIMITS, excerpt, job, policy


async def _servers(executor: ShellExecutor) -> list[SpawnServer]:
    return list(executor._servers.values())


async def test_jobs_start_through_one_server_and_inherit_its_limits(data_dir: Path) -> None:
    executor = ShellExecutor(policy(data_dir))
    try:
        for _ in range(3):
            j = job({"type": "shell", "command": "sh -c 'ulimit -n; ulimit -Hn; echo $PPID'"})
            await executor.execute(j)
            soft, hard, parent = excerpt(j).split()[:3]
            assert soft == hard == str(LIMITS.open_files)
        (server,) = await _servers(executor)
        assert int(parent) == server._process.pid  # started by the server, not by Kairos
    finally:
        await executor.aclose()


async def test_a_lost_server_fails_the_running_job_and_the_next_job_gets_a_new_one(
    data_dir: Path,
) -> None:
    executor = ShellExecutor(policy(data_dir))
    try:
        j = job({"type": "shell", "command": "sh -c 'echo $$; exec sleep 30'"}, timeout=20)
        running = asyncio.create_task(executor.execute(j))
        await eventually(lambda: excerpt(j).strip())
        (server,) = await _servers(executor)
        os.kill(server._process.pid, signal.SIGKILL)
        with pytest.raises(JobFailed, match="lost its spawn server"):
            await asyncio.wait_for(running, 10)
        group = int(excerpt(j).split()[0])
        await eventually(lambda: not _group_alive(group))  # the job's group was killed with it
        await executor.execute(job({"type": "shell", "command": "true"}))
        (fresh,) = await _servers(executor)
        assert fresh is not server and fresh.usable
    finally:
        await executor.aclose()


async def test_a_server_near_its_own_cpu_limit_is_retired(data_dir: Path) -> None:
    # Its CPU budget is half the job limit: with 1 s, a few hundred spawns exhaust it
    # on no machine, so the budget is lowered to make the first report cross it.
    limits = dataclasses.replace(LIMITS, cpu_seconds=1)
    executor = ShellExecutor(policy(data_dir, shell_limits=limits))
    try:
        await executor.execute(job({"type": "shell", "command": "true"}))
        (first,) = await _servers(executor)
        first._cpu_budget = 0.0
        await executor.execute(job({"type": "shell", "command": "true"}))
        assert first.retiring and not first.alive  # it closed after its last job
        await executor.execute(job({"type": "shell", "command": "true"}))
        (second,) = await _servers(executor)
        assert second is not first
    finally:
        await executor.aclose()


def test_the_server_runs_only_the_standard_library() -> None:
    source = Path(shell.__file__).with_name("spawn_server.py").read_text()
    assert "from core" not in source and "import core" not in source


@pytest.mark.parametrize("env", [{"A": "x\0y"}, {"A=B": "x"}])
async def test_an_environment_no_program_can_receive_fails_its_run_and_keeps_the_server(
    data_dir: Path, env: dict[str, str]
) -> None:
    executor = ShellExecutor(policy(data_dir))
    try:
        await executor.execute(job({"type": "shell", "command": "true"}))
        (server,) = await _servers(executor)
        with pytest.raises(JobFailed, match="Cannot start"):
            await executor.execute(job({"type": "shell", "command": "true", "env": env}))
        j = job({"type": "shell", "command": "sh -c 'echo $A'", "env": {"A": "fine"}})
        await executor.execute(j)
        assert excerpt(j).strip() == "fine"
        assert await _servers(executor) == [server] and server.usable
    finally:
        await executor.aclose()


async def test_a_file_that_is_no_program_fails_its_run_and_keeps_the_server(
    data_dir: Path,
) -> None:
    pol = policy(data_dir)
    script = pol.workdir(1) / "garbage"
    script.write_bytes(b"\x7fELF not really")
    script.chmod(0o755)
    executor = ShellExecutor(pol)
    try:
        await executor.execute(job({"type": "shell", "command": "true"}))
        (server,) = await _servers(executor)
        with pytest.raises(JobFailed, match=r"Cannot start .*garbage.*format") as failed:
            await executor.execute(job({"type": "shell", "command": "garbage"}))
        assert failed.value.exit_code == 127
        await executor.execute(job({"type": "shell", "command": "true"}))
        assert await _servers(executor) == [server] and server.usable
    finally:
        await executor.aclose()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
