"""``kairos runs``, ``kairos tasks add --action`` and ``kairos config`` as a person runs them:
real processes on a real SQLite file whose runs were produced by a real scheduler."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import eventually

from bot.app import Kairos
from bot.settings import Settings
from core.enums import Platform, RunStatus

KAIROS = [sys.executable, "-m", "bot"]
FAILING = {
    "type": "shell",
    "shell": True,
    "command": "echo hello; echo 'oops: timeout' >&2; exit 1",
}


@pytest.fixture
def env(tmp_path: Path, data_dir: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KAIROS_")}
    return {
        **clean,
        "KAIROS_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
        "KAIROS_DATA_DIR": str(data_dir),
        "KAIROS_DEFAULT_TIMEZONE": "UTC",
    }


def kairos(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KAIROS, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _run_task_once(env: dict[str, str], task_id: int) -> None:
    """Run a task now in a scheduler of this test process and wait until it ended."""
    settings = Settings(
        database_url=env["KAIROS_DATABASE_URL"],
        data_dir=Path(env["KAIROS_DATA_DIR"]),
        shell_allow="*",
        _env_file=None,
    )  # type: ignore[call-arg]

    async def go() -> None:
        app = await Kairos.open(settings)
        await app.start()
        try:
            await app.scheduler.run_now(task_id)

            async def ended() -> bool:
                return any(RunStatus(r.status).is_final for r in await app.runs.runs_for(task_id))

            await eventually(ended, within=20)
        finally:
            await app.close()

    asyncio.run(go())


def test_creating_a_job_is_refused_with_a_message_and_exit_status(env: dict[str, str]) -> None:
    action = json.dumps({"type": "shell", "command": "backup.sh"})
    refused = kairos(env, "tasks", "add", "backup", "--action", action)
    assert refused.returncode == 1
    assert "Shell jobs are disabled" in refused.stderr and "KAIROS_SHELL_ALLOW" in refused.stderr
    bad = kairos(env, "tasks", "add", "backup", "--action", "{not json")
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr
    allowed = kairos(
        {**env, "KAIROS_SHELL_ALLOW": "backup.sh"}, "tasks", "add", "b", "--action", action
    )
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "added #1 'b'"


def test_runs_list_show_and_logs(env: dict[str, str]) -> None:
    shell_env = {**env, "KAIROS_SHELL_ALLOW": "*"}
    added = kairos(shell_env, "tasks", "add", "nightly", "--action", json.dumps(FAILING))
    assert added.returncode == 0, added.stderr
    _run_task_once(env, 1)

    listed = kairos(env, "runs", "list", "--task", "1")
    assert listed.returncode == 0, listed.stderr
    assert "#1 nightly" in listed.stdout and "exit status 1" in listed.stdout
    assert "#1: 0% succeeded (0/1), 1 failed" in listed.stdout
    only_failed = kairos(env, "runs", "list", "--status", "failed", "--since", "1d", "--json")
    rows = [json.loads(line) for line in only_failed.stdout.splitlines()]
    assert [(r["task_id"], r["exit_code"]) for r in rows] == [(1, 1)]
    assert kairos(env, "runs", "list", "--status", "completed").stdout.strip() == "no runs match"
    assert kairos(env, "runs", "list", "--since", "soon").returncode == 2

    run_id = str(rows[0]["id"])
    shown = kairos(env, "runs", "show", run_id)
    assert shown.returncode == 0, shown.stderr
    assert "Exit status: 1" in shown.stdout and "oops: timeout" in shown.stdout
    logs = kairos(env, "runs", "logs", run_id)
    assert logs.stdout == "hello\n[stderr] oops: timeout\n"
    missing = kairos(env, "runs", "show", "999")
    assert missing.returncode == 1 and "Run 999 does not exist" in missing.stderr


def test_config_says_which_isolation_is_active(env: dict[str, str]) -> None:
    off = json.loads(kairos(env, "config", "--json").stdout)
    assert off["shell_isolation"] == "shell jobs disabled (KAIROS_SHELL_ALLOW is empty)"
    on = json.loads(kairos({**env, "KAIROS_SHELL_ALLOW": "x.sh"}, "config", "--json").stdout)
    assert on["shell_isolation"].startswith("own process group, scrubbed environment, rlimits")
    bwrap = {**env, "KAIROS_SHELL_ALLOW": "x.sh", "KAIROS_SHELL_SANDBOX": "bwrap"}
    shown = json.loads(kairos(bwrap, "config", "--json").stdout)["shell_isolation"]
    assert "bubblewrap sandbox" in shown or "bwrap asked for but not installed" in shown
    secret = {**env, "KAIROS_SQL_CONNECTIONS": '{"s": "postgresql://u:hunter2@db/x"}'}
    printed = kairos(secret, "config", "--json").stdout
    assert "hunter2" not in printed and "postgresql://u:***@db/x" in printed


@pytest.fixture(autouse=True)
def _platform_is_console() -> None:
    assert Platform.CONSOLE.value == "console"
