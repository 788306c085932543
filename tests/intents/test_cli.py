"""``kairos parse``: single messages and JSONL batches, run as a real process.

A real process (rather than typer's CliRunner in this interpreter) also proves
the command's start-up path and keeps the test independent of ``sys.path``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NOW = "2026-11-26T12:00:00"
ROOT = Path(__file__).resolve().parents[2]


def _invoke(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli import app; app()", "parse", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    return done.returncode, done.stdout


def test_single_message() -> None:
    code, out = _invoke(
        "--now", NOW, "--tz", "Europe/Berlin", "remind me to water the ferns tomorrow at 8pm"
    )
    assert code == 0
    data = json.loads(out)
    assert data["intent"] == "create_reminder"
    assert data["title"] == "water the ferns"
    assert data["next_runs"] == ["2026-11-27T20:00:00+01:00"]
    assert data["schedule"] == {
        "kind": "once",
        "at": "2026-11-27T20:00:00+01:00",
        "timezone": "Europe/Berlin",
    }
    assert set(data) == {
        "intent",
        "title",
        "task_ref",
        "schedule",
        "next_runs",
        "due",
        "priority",
        "assignees",
        "channel",
        "depends_on",
        "action",
        "confidence",
    }


def test_aware_now_and_default_zone_from_env() -> None:
    code, out = _invoke(
        "--now",
        "2026-11-26T12:00:00+09:00",
        "remind me at 5 to stretch",
        env={"KAIROS_DEFAULT_TIMEZONE": "Asia/Tokyo"},
    )
    assert code == 0
    assert json.loads(out)["next_runs"] == ["2026-11-26T17:00:00+09:00"]


def test_bad_zone_is_an_error() -> None:
    code, out = _invoke("--tz", "Mars/Olympus", "help")
    assert code == 2
    assert "Unknown time zone" in json.loads(out)["error"]


def test_batch_keeps_order_and_survives_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "snooze 10 minutes", "now": NOW, "tz": "Europe/Berlin"}),
        "{not json",
        json.dumps({"now": NOW}),
        json.dumps({"text": "done", "tz": "Nowhere/Land"}),
        json.dumps(["text"]),
        json.dumps({"text": "what can you do?"}),
        json.dumps(
            {
                "text": "every day at 7 remind me to run",
                "now": NOW,
                "tz": "America/New_York",
                "user": "alice",
            }
        ),
    ]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = _invoke("--jsonl", str(path))
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == len(lines)
    assert results[0]["intent"] == "snooze"
    assert results[0]["next_runs"] == ["2026-11-26T12:10:00+01:00"]
    assert "error" in results[1] and "error" in results[2]
    assert "error" in results[3] and "error" in results[4]
    assert results[5]["intent"] == "help"
    assert results[6]["next_runs"][0] == "2026-11-27T07:00:00-05:00"


def test_batch_from_stdin() -> None:
    stdin = json.dumps({"text": "help"}) + "\n" + json.dumps({"text": "trigger 9"}) + "\n"
    code, out = _invoke("--jsonl", "-", stdin=stdin)
    assert code == 0
    assert [json.loads(line)["intent"] for line in out.splitlines()] == ["help", "run_task"]


def test_batch_with_unknown_and_malformed_lines() -> None:
    requests = (
        "".join(
            json.dumps({"text": text, "now": NOW, "tz": "Europe/Berlin"}) + "\n"
            for text in ("remind me in 2 hours to check the oven", "oops", "delete task 7")
        )
        + "not json\n"
    )
    code, out = _invoke("--jsonl", "-", stdin=requests)
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert [r.get("intent", "error") for r in results] == [
        "create_reminder",
        "unknown",
        "delete_task",
        "error",
    ]
    assert results[0]["next_runs"] == ["2026-11-26T14:00:00+01:00"]


def test_default_zone_comes_from_the_env_file_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KAIROS_DEFAULT_TIMEZONE=Asia/Tokyo\n")
    env = {k: v for k, v in os.environ.items() if k != "KAIROS_DEFAULT_TIMEZONE"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "parse",
            "--now",
            "2026-11-26T12:00:00+09:00",
            "remind me at 5 to stretch",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["next_runs"] == ["2026-11-26T17:00:00+09:00"]


def test_date_order_option_env_and_batch_field() -> None:
    text = "remind me on 3/12 to renew the lease"
    code, out = _invoke("--now", NOW, "--tz", "Europe/Berlin", "--date-order", "MDY", text)
    assert code == 0
    assert json.loads(out)["next_runs"] == ["2027-03-12T09:00:00+01:00"]
    code, out = _invoke(
        "--now", NOW, "--tz", "Europe/Berlin", text, env={"KAIROS_DATE_ORDER": "DMY"}
    )
    assert json.loads(out)["next_runs"] == ["2026-12-03T09:00:00+01:00"]
    lines = [
        {"text": text, "now": NOW, "tz": "Europe/Berlin", "date_order": "mdy"},
        {"text": text, "now": NOW, "tz": "Europe/Berlin"},
        {"text": text, "now": NOW, "tz": "Europe/Berlin", "date_order": "YMD"},
    ]
    code, out = _invoke(
        "--jsonl", "-", "--date-order", "DMY", stdin="\n".join(json.dumps(x) for x in lines)
    )
    assert code == 0
    first, second, third = (json.loads(x) for x in out.splitlines())
    assert first["next_runs"] == ["2027-03-12T09:00:00+01:00"]  # the line's order wins
    assert second["next_runs"] == ["2026-12-03T09:00:00+01:00"]  # the option's
    assert "date_order" in third["error"]


def test_bad_date_order_option_is_refused() -> None:
    code, _ = _invoke("--date-order", "YMD", "remind me on 3/12 to x")
    assert code == 2
