"""Shell jobs as real child processes: output, exit status, limits, timeouts, isolation."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.errors import JobFailed, NotConfigured, PermissionDenied
from core.executors.shell import ShellExecutor
from core.executors.spawner import SpawnServer
from core.jobs import NullLogSink
from core.policy import ShellLimits

from .helpers import LIMITS, excerpt, job, policy


@pytest.fixture(autouse=True, params=["spawner", "prlimit", "preexec"])
async def limiter(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """Every way of applying the limits: the spawn server (limits inherited), the
    prlimit/setpriv prefix, and ``preexec_fn``."""
    import core.executors.shell as shell

    started: list[SpawnServer] = []
    if request.param == "spawner":
        real = shell._spawn_server

        async def recorded(limits: ShellLimits, user: object) -> SpawnServer | None:
            server = await real(limits, user)  # type: ignore[arg-type]
            assert server is not None, "the spawn server did not start (see the log)"
            started.append(server)
            return server

        monkeypatch.setattr(shell, "_spawn_server", recorded)
    else:

        async def none(limits: ShellLimits, user: object) -> None:
            return None

        monkeypatch.setattr(shell, "_spawn_server", none)
        if request.param == "prlimit":
            if shell._limit_prefix(LIMITS, None) is None:
                pytest.skip("prlimit is not installed")
        else:
            monkeypatch.setattr(shell, "_limit_prefix", lambda limits, user: None)
    yield str(request.param)
    for server in started:
        await server.aclose()


def _sh(command: str, **extra: object) -> dict[str, object]:
    return {"type": "shell", "command": command, "shell": True, **extra}


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (zombies wait for init to reap them)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


async def _wait_group_gone(pgid: int) -> None:
    deadline = time.monotonic() + 10
    while alive := _live_members(pgid):
        assert time.monotonic() < deadline, f"processes {alive} outlived the job"
        await asyncio.sleep(0.05)


async def test_output_and_exit_status_are_captured(data_dir: Path) -> None:
    j = job(_sh("echo out; echo err >&2; exit 0"))
    result = await ShellExecutor(policy(data_dir)).execute(j)
    assert result.exit_code == 0
    assert "exit 0" in result.output
    assert "out" in excerpt(j) and "err" in excerpt(j)


async def test_non_zero_exit_fails_with_stderr_tail(data_dir: Path) -> None:
    j = job(_sh("echo 'disk full: /backup' >&2; exit 3"))
    with pytest.raises(JobFailed) as failed:
        await ShellExecutor(policy(data_dir)).execute(j)
    assert failed.value.exit_code == 3
    assert "exit status 3" in failed.value.message
    assert "disk full: /backup" in failed.value.message


async def test_argv_is_not_a_shell_unless_asked(data_dir: Path) -> None:
    j = job({"type": "shell", "command": "echo $HOME; echo a | tr a b"})
    await ShellExecutor(policy(data_dir)).execute(j)
    # Without a shell, '$HOME', '|' and 'tr' are plain arguments of echo.
    assert "$HOME; echo a | tr a b" in excerpt(j)


async def test_environment_is_scrubbed_and_secrets_are_named(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAIROS_SLACK_BOT_TOKEN", "xoxb-must-not-leak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "also-secret")
    secrets = {"BACKUP_KEY": "k-123", "OTHER": "not-asked"}
    j = job(_sh("env", secrets=["BACKUP_KEY"]))
    await ShellExecutor(policy(data_dir, secrets=secrets)).execute(j)
    env = excerpt(j)
    assert "BACKUP_KEY=k-123" in env
    assert "xoxb" not in env and "also-secret" not in env and "not-asked" not in env
    assert "KAIROS_RUN_ID=1" in env


async def test_each_workspace_has_its_own_working_directory(data_dir: Path) -> None:
    first, second = job(_sh("pwd; touch mine"), workspace_id=1), job(_sh("pwd; ls"), workspace_id=2)
    executor = ShellExecutor(policy(data_dir))
    await executor.execute(first)
    await executor.execute(second)
    assert excerpt(first).strip().endswith("workspace-1")
    assert "workspace-2" in excerpt(second) and "mine" not in excerpt(second)


async def test_a_script_in_the_working_directory_runs_by_name(data_dir: Path) -> None:
    pol = policy(data_dir, shell_allow=("backup.sh",))
    script = pol.workdir(1) / "backup.sh"
    script.write_text("#!/bin/sh\necho backed up $KAIROS_SCHEDULED_FOR\n")
    script.chmod(0o755)
    j = job({"type": "shell", "command": "backup.sh"})
    await ShellExecutor(pol).execute(j)
    assert "backed up 2026-03-02T02:00:00+00:00" in excerpt(j)


async def test_policy_is_checked_again_at_run_time(data_dir: Path) -> None:
    with pytest.raises(PermissionDenied, match="not allowed"):
        await ShellExecutor(policy(data_dir, shell_allow=("backup.sh",))).execute(
            job({"type": "shell", "command": "rm -rf /"})
        )
    with pytest.raises(NotConfigured, match="disabled") as refused:
        await ShellExecutor(policy(data_dir, shell_allow=())).execute(job(_sh("true")))
    assert "KAIROS_SHELL_ALLOW" in refused.value.user_message()


async def test_missing_command_fails_clearly(data_dir: Path) -> None:
    with pytest.raises(JobFailed, match="Cannot start 'no-such-command'") as failed:
        await ShellExecutor(policy(data_dir)).execute(
            job({"type": "shell", "command": "no-such-command --now"})
        )
    assert failed.value.exit_code == 127


async def test_infinite_loop_is_terminated_at_the_wall_clock_limit(data_dir: Path) -> None:
    j = job(_sh("echo started; while :; do :; done"), timeout=3.0)
    started = time.monotonic()
    with pytest.raises(JobFailed, match="timed out") as failed:
        await ShellExecutor(policy(data_dir)).execute(j)
    took = time.monotonic() - started
    assert took < j.timeout_seconds, f"the worker's own timeout ({j.timeout_seconds}s) was reached"
    assert "started" in excerpt(j)
    assert failed.value.exit_code is not None and failed.value.exit_code < 0


async def test_a_job_ignoring_sigterm_is_killed_after_the_grace(data_dir: Path) -> None:
    j = job(_sh("trap '' TERM; echo $$; while :; do sleep 0.05; done"), timeout=3.0)
    with pytest.raises(JobFailed, match="timed out") as failed:
        await ShellExecutor(policy(data_dir)).execute(j)
    assert failed.value.exit_code == -9
    await _wait_group_gone(int(excerpt(j).split()[0]))


async def test_fork_bomb_is_contained_and_every_process_dies(data_dir: Path) -> None:
    j = job({"type": "shell", "command": "bash -c 'echo $$; f(){ f|f; }; f'"}, timeout=4.0)
    with pytest.raises(JobFailed) as failed:
        await ShellExecutor(policy(data_dir)).execute(j)
    assert "timed out" in failed.value.message or "exit status" in failed.value.message
    await _wait_group_gone(int(excerpt(j).split()[0]))


async def test_endless_output_is_cut_off(data_dir: Path) -> None:
    j = job({"type": "shell", "command": "yes kairos"}, timeout=10.0)
    started = time.monotonic()
    with pytest.raises(JobFailed, match="output exceeded 4 MiB"):
        await ShellExecutor(policy(data_dir)).execute(j)
    assert time.monotonic() - started < 8
    assert len(excerpt(j).encode()) <= 64 * 1024 + 200  # the stored excerpt is capped


async def test_memory_hog_fails_inside_its_address_space_limit(data_dir: Path) -> None:
    hog = "python3 -c 'x = bytearray(2 * 1024**3); print(len(x))'"
    with pytest.raises(JobFailed, match="MemoryError"):
        await ShellExecutor(policy(data_dir)).execute(job(_sh(hog)))


async def test_cpu_limit_stops_a_busy_child(data_dir: Path) -> None:
    limits = LIMITS.__class__(**{**_fields(LIMITS), "cpu_seconds": 1})
    j = job(_sh("while :; do :; done"), timeout=20.0)
    started = time.monotonic()
    with pytest.raises(JobFailed, match="exit status"):
        await ShellExecutor(policy(data_dir, shell_limits=limits)).execute(j)
    assert time.monotonic() - started < 15


async def test_background_children_do_not_outlive_the_job(data_dir: Path) -> None:
    # A child left in the background keeps the pipes open: the job still ends.
    j = job(_sh("sleep 60 & echo $!"), timeout=10.0)
    started = time.monotonic()
    await ShellExecutor(policy(data_dir)).execute(j)
    assert time.monotonic() - started < 5
    child = int(excerpt(j).split()[0])
    deadline = time.monotonic() + 5
    while _state(child) != "Z":
        assert time.monotonic() < deadline, "the background child survived the job"
        await asyncio.sleep(0.05)


async def test_a_detached_grandchild_holding_the_pipe_does_not_hang_kairos(data_dir: Path) -> None:
    # setsid leaves the job's process group; it keeps stdout open for 30 s.
    j = job(_sh("setsid sleep 30 & echo done"), timeout=10.0)
    started = time.monotonic()
    await ShellExecutor(policy(data_dir)).execute(j)
    assert time.monotonic() - started < 5
    assert "done" in excerpt(j)


async def test_runs_with_the_null_log_sink_of_the_worker(data_dir: Path) -> None:
    import dataclasses

    j = dataclasses.replace(job(_sh("echo quiet; exit 4")), log=NullLogSink())
    with pytest.raises(JobFailed, match="exit status 4"):
        await ShellExecutor(policy(data_dir)).execute(j)


def _fields(value: object) -> dict[str, object]:
    import dataclasses

    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}  # type: ignore[arg-type]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return "Z"


async def test_jobs_of_a_root_kairos_run_as_the_job_user(data_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only a root Kairos changes the job's user")
    j = job(
        {
            "type": "shell",
            "command": "bash -c 'id -u; id -G; ulimit -u; ulimit -n; ulimit -Hn; ulimit -Hv'",
        }
    )
    await ShellExecutor(policy(data_dir)).execute(j)
    uid, groups, nproc, nofile, hard_nofile, hard_as = excerpt(j).split("\n")[:6]
    assert (uid, groups) == ("65534", "65534")
    assert (nproc, nofile) == (str(LIMITS.processes), str(LIMITS.open_files))
    # Hard limits too: the job cannot raise its own.
    assert (hard_nofile, hard_as) == (str(LIMITS.open_files), str(LIMITS.memory_bytes // 1024))


async def test_a_working_folder_the_job_user_cannot_reach_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only a root Kairos changes the job's user")
    private = tmp_path / "private"  # pytest's tmp_path lives under a 0700 folder
    private.mkdir()
    with pytest.raises(NotConfigured, match="cannot enter") as refused:
        await ShellExecutor(policy(private)).execute(job(_sh("true")))
    assert "KAIROS_DATA_DIR" in refused.value.user_message()
