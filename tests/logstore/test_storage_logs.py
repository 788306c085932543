"""Full run logs in Supabase Storage through the real ``supabase`` client, against a fake
Storage REST API: uploaded when the attempt ends, read back by ``kairos runs logs`` (a real
process) and attached to long results; kept locally when Storage refuses the upload."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from waiting import eventually

from bot.app import Kairos
from bot.settings import Settings
from core.enums import Platform, RunStatus
from core.models import Run

from .fake_storage import FakeStorage

SCRIPT = "seq 1 5000; echo 'backup ok'; echo 'disk nearly full' >&2"


@pytest.fixture
def storage() -> Iterator[FakeStorage]:
    fake = FakeStorage().start()
    yield fake
    fake.stop()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="kairos-supabase-"))
    os.chmod(path, 0o755)  # a root Kairos runs jobs as nobody: not under pytest's 0700 tmp
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def env(tmp_path: Path, data_dir: Path, storage: FakeStorage) -> dict[str, str]:
    data = data_dir
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KAIROS_")}
    return {
        **clean,
        "KAIROS_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
        "KAIROS_DATA_DIR": str(data),
        "KAIROS_DEFAULT_TIMEZONE": "UTC",
        "KAIROS_SUPABASE_URL": storage.url,
        "KAIROS_SUPABASE_KEY": "service-role-key",
        "KAIROS_SUPABASE_LOG_BUCKET": "run-logs",
        "KAIROS_SHELL_ALLOW": "*",
    }


def _kairos(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _run_once(env: dict[str, str]) -> tuple[int, str | None]:
    """Create a shell job and run it once in a Kairos of this process: (run id, log path)."""
    settings = Settings(
        database_url=env["KAIROS_DATABASE_URL"],
        data_dir=Path(env["KAIROS_DATA_DIR"]),
        shell_allow="*",
        supabase_url=env["KAIROS_SUPABASE_URL"],
        supabase_key=env["KAIROS_SUPABASE_KEY"],
        supabase_log_bucket=env["KAIROS_SUPABASE_LOG_BUCKET"],
        _env_file=None,
    )  # type: ignore[call-arg]

    async def go() -> tuple[int, str | None]:
        app = await Kairos.open(settings)
        await app.start()
        try:
            workspace = await app.store.ensure_workspace(Platform.CONSOLE, "local", name="local")
            assert workspace.id is not None
            owner = await app.store.ensure_member(workspace.id, "me", role="admin")  # type: ignore[arg-type]
            task = await app.tasks.create(
                {
                    "kind": "job",
                    "title": "backup",
                    "action": {"type": "shell", "command": SCRIPT, "shell": True},
                },
                actor=owner,
            )
            await app.scheduler.run_now(task.id)

            async def final() -> Run | None:
                runs = await app.runs.runs_for(task.id)
                return runs[0] if runs and RunStatus(runs[0].status).is_final else None

            run = await eventually(final, within=20)
            assert run.id is not None
            row = await app.history.get(run.id, workspace_id=None)
            return run.id, row.run.log_path
        finally:
            await app.close()

    return asyncio.run(go())


def test_logs_go_to_storage_and_come_back(env: dict[str, str], storage: FakeStorage) -> None:
    run_id, location = _run_once(env)
    key = f"task-1/run-{run_id}-1.log"
    assert location == f"supabase://run-logs/{key}"
    content = storage.objects[f"run-logs/{key}"].decode()
    assert content.startswith("1\n2\n3\n") and "backup ok" in content
    assert "[stderr] disk nearly full" in content
    upload = next(r for r in storage.requests if r.method == "POST")
    assert upload.headers["Authorization"] == "Bearer service-role-key"
    # Nothing left behind in the data directory: Storage holds the log.
    assert not list(Path(env["KAIROS_DATA_DIR"]).glob("logs/**/*.log"))

    shown = _kairos(env, "runs", "logs", str(run_id))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == content  # the whole log, not the stored excerpt
    assert any(r.method == "GET" and r.path.endswith(key) for r in storage.requests)


def test_a_refused_upload_keeps_the_log_locally(env: dict[str, str], storage: FakeStorage) -> None:
    storage.fail_uploads = True
    run_id, location = _run_once(env)
    assert location is not None and not location.startswith("supabase://")
    assert Path(location).is_file() and storage.objects == {}
    shown = _kairos(env, "runs", "logs", str(run_id))
    assert shown.returncode == 0, shown.stderr
    assert "backup ok" in shown.stdout and shown.stdout.startswith("1\n2\n")
