"""The ``kairos`` command line as a person runs it: real processes, a real SQLite file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

KAIROS = [sys.executable, "-m", "bot"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KAIROS_")}
    return {
        **clean,
        "KAIROS_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
        "KAIROS_DEFAULT_TIMEZONE": "Europe/Berlin",
        "KAIROS_CONSOLE_USER": "ana",
    }


def kairos(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KAIROS, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version_and_help(env: dict[str, str]) -> None:
    assert kairos(env, "--version").stdout.strip() == "kairos 0.1.0"
    for command in ("run", "chat", "tasks", "db", "config", "parse"):
        result = kairos(env, command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage:" in result.stdout


def test_config_masks_secrets(env: dict[str, str]) -> None:
    env = {
        **env,
        "KAIROS_SLACK_BOT_TOKEN": "xoxb-very-secret",
        "KAIROS_DATABASE_URL": "postgresql://kairos:hunter2@db.example:5432/kairos",
    }
    result = kairos(env, "config", "--json")
    shown = json.loads(result.stdout)
    assert shown["slack_bot_token"] == "********"
    assert shown["database_url"] == "postgresql://kairos:***@db.example:5432/kairos"
    assert "xoxb-very-secret" not in result.stdout + result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def test_bad_configuration_is_named(env: dict[str, str]) -> None:
    result = kairos({**env, "KAIROS_DEFAULT_TIMEZONE": "Mars/Olympus"}, "config")
    assert result.returncode == 1
    assert "Unknown time zone 'Mars/Olympus'" in result.stderr


@pytest.mark.parametrize("url", ["not-a-url", "mysql://kairos:hunter2@db/kairos"])
def test_a_bad_database_url_is_one_line_even_for_config(env: dict[str, str], url: str) -> None:
    result = kairos({**env, "KAIROS_DATABASE_URL": url}, "config")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
    assert result.stderr.startswith("error: Invalid configuration (KAIROS_DATABASE_URL: ")
    assert "hunter2" not in result.stderr


def test_tasks_add_list_done(env: dict[str, str]) -> None:
    added = kairos(env, "tasks", "add", "write the release notes", "--due", "2026-12-03T17:00")
    assert added.stdout.strip() == "added #1 'write the release notes'", added.stderr
    listed = kairos(env, "tasks", "list", "--json")
    task = json.loads(listed.stdout)
    assert (task["title"], task["due"]) == ("write the release notes", "2026-12-03T16:00:00Z")
    assert kairos(env, "tasks", "done", "1").stdout.strip() == "done #1 'write the release notes'"
    assert kairos(env, "tasks", "list", "--json").stdout == ""
    shown = kairos(env, "tasks", "show", "1").stdout
    assert "task.created by member 1" in shown and "task.completed by member 1" in shown


def test_tasks_bad_input(env: dict[str, str]) -> None:
    empty = kairos(env, "tasks", "add", "  ")
    assert empty.returncode == 1
    assert "The task title is empty." in empty.stderr
    bad_due = kairos(env, "tasks", "add", "x", "--due", "someday soon")
    assert (
        "The due time 'someday soon' is not a date and time Kairos understands." in bad_due.stderr
    )
    missing = kairos(env, "tasks", "done", "7")
    assert missing.stderr.strip() == (
        "error: Task #7 does not exist. List your tasks to see their numbers."
    )
    assert kairos(env, "tasks", "list", "--json").stdout == ""  # nothing half-written


def test_db_upgrade_and_downgrade(env: dict[str, str]) -> None:
    assert kairos(env, "db", "upgrade").returncode == 0
    assert kairos(env, "db", "downgrade", "base").returncode == 0
    assert kairos(env, "db", "upgrade").stdout.strip() == "database is at head"


def test_chat_speaks_natural_language(env: dict[str, str]) -> None:
    said = kairos(env, "chat", stdin="remind me to call the bank tomorrow at 3pm\nlist\nquit\n")
    assert said.returncode == 0, said.stderr
    assert "Got it — #1 'call the bank'" in said.stdout
    assert "call the bank" in said.stdout.split("Got it")[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start ``kairos run`` without a console; return it and its base URL once healthy."""
    port = _free_port()
    proc = subprocess.Popen(
        [*KAIROS, "run", "--no-console"],
        env={**env, "KAIROS_HTTP_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded machine starts Python slowly
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if json.loads(response.read())["status"] == "ok":
                    return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"kairos run never became healthy: {proc.communicate()[0]}")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    return out


def test_run_serves_health_and_stops_on_sigterm(env: dict[str, str]) -> None:
    proc, base = _serve(env)
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            body = json.loads(response.read())
        assert (body["status"], body["database"]) == ("ok", "ok")
    finally:
        _stop(proc)


def test_run_serves_slack_when_configured(env: dict[str, str]) -> None:
    slack_env = {
        **env,
        "KAIROS_SLACK_BOT_TOKEN": "xoxb-cli-test-token",
        "KAIROS_SLACK_SIGNING_SECRET": "cli-test-signing-secret",
        "KAIROS_SLACK_API_URL": f"http://127.0.0.1:{_free_port()}/api/",
    }
    proc, base = _serve(slack_env)
    try:
        unsigned = urllib.request.Request(
            f"{base}/slack/events", data=b"command=%2Fkairos&text=list", method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(unsigned, timeout=5)
        assert refused.value.code == 401
    finally:
        out = _stop(proc)
    assert "xoxb-cli-test-token" not in out and "cli-test-signing-secret" not in out


def test_default_database_folder_is_created(tmp_path: Path, env: dict[str, str]) -> None:
    nested = tmp_path / "new" / "folder" / "kairos.db"
    result = kairos({**env, "KAIROS_DATABASE_URL": f"sqlite:///{nested}"}, "tasks", "list")
    assert result.returncode == 0, result.stderr
    assert nested.exists()


def test_unreachable_database_is_a_clear_message(env: dict[str, str]) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/kairos_no_such_database"
    result = kairos({**env, "KAIROS_DATABASE_URL": url}, "tasks", "list")
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: Cannot open the database {url}:")
    assert "Traceback" not in result.stderr
    pooler = kairos(
        {**env, "KAIROS_DATABASE_URL": "postgresql://u:pw@h.supabase.co:6543/p"}, "tasks", "list"
    )
    assert "transaction pooler" in pooler.stderr and "pw" not in pooler.stderr


def test_run_refuses_a_port_in_use_clearly(env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = kairos({**env, "KAIROS_HTTP_PORT": str(port)}, "run", "--no-console")
    assert result.returncode == 1
    assert f"error: Cannot listen on 127.0.0.1:{port}:" in result.stderr
    assert "KAIROS_HTTP_PORT" in result.stderr and "Traceback" not in result.stderr


def test_tasks_search_pause_and_resume(env: dict[str, str]) -> None:
    kairos(env, "tasks", "add", "write the release notes")
    kairos(env, "tasks", "add", "deploy v2", "--due", "2026-12-03T17:00")
    kairos(env, "tasks", "add", "notes for the deploy meeting")
    found = kairos(env, "tasks", "search", "deploy", "--json").stdout.splitlines()
    # Ranked: both match, and each line is a task.
    assert sorted(json.loads(line)["id"] for line in found) == [2, 3]
    assert kairos(env, "tasks", "search", "nothing-like-it", "--json").stdout == ""
    assert kairos(env, "tasks", "pause", "2").stdout.strip() == "paused #2 'deploy v2'"
    paused = kairos(env, "tasks", "list", "--status", "paused", "--json").stdout
    assert [json.loads(line)["id"] for line in paused.splitlines()] == [2]
    assert kairos(env, "tasks", "resume", "2").stdout.strip() == "resumed #2 'deploy v2'"
    history = kairos(env, "tasks", "show", "2").stdout
    assert "task.paused by member" in history and "task.resumed by member" in history
