"""The scenario suite: scripted conversations run in-process, a few through the CLI."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.script import run_script
from core import migrate

from .table import MALFORMED, NOW, TZ, Scenario, scenarios
from .trust import trust_scenarios

SCENARIOS = scenarios() + trust_scenarios()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each scenario (migrating 100 times is slow)."""
    path = tmp_path_factory.mktemp("scenario-template") / "kairos.db"
    asyncio.run(migrate.upgrade(f"sqlite:///{path}"))
    return path


def run(scenario: Scenario, db: Path) -> tuple[int, list[dict[str, Any]]]:
    out: list[str] = []
    status = asyncio.run(
        run_script(
            [json.dumps(line) for line in scenario.script],
            write=out.append,
            now=datetime.fromisoformat(scenario.now),
            tz=scenario.tz,
            database_url=f"sqlite:///{db}",
        )
    )
    return status, [json.loads(line) for line in out]


def _matches(line: dict[str, Any], want: dict[str, Any]) -> bool:
    if "text" not in line:
        return False
    for key, value in want.items():
        if key == "text":
            if not re.search(value, line["text"]):
                return False
        elif line.get(key) != value:
            return False
    return True


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario, template_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "kairos.db"
    shutil.copy(template_db, db)
    status, lines = run(scenario, db)
    shown = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert status == 0, shown
    for want in scenario.expect:
        assert any(_matches(line, want) for line in lines), f"no line matches {want}:\n{shown}"
    for pattern in scenario.absent:
        hits = [line for line in lines if "text" in line and re.search(pattern, line["text"])]
        assert not hits, f"unexpected {pattern!r}:\n{shown}"
    for pattern in scenario.once:
        hits = [line for line in lines if "text" in line and re.search(pattern, line["text"])]
        assert len(hits) == 1, f"{pattern!r} matched {len(hits)} lines:\n{shown}"
    for line in lines:  # every output line has the contract's fields
        if "text" in line:
            assert set(line) == {"at", "to", "in", "visibility", "task", "text"}, line
            assert line["visibility"] in {"public", "private"}
    dumps = [line["tasks"] for line in lines if "tasks" in line]
    if scenario.tasks or scenario.count is not None:
        assert dumps, f"the scenario dumps no tasks:\n{shown}"
        final = {task["id"]: task for task in dumps[-1]}
        if scenario.count is not None:
            assert len(final) == scenario.count, shown
        for task_id, fields in scenario.tasks.items():
            assert task_id in final, f"task {task_id} missing:\n{shown}"
            for key, value in fields.items():
                assert final[task_id][key] == value, f"task {task_id} {key}:\n{shown}"


def test_there_are_at_least_a_hundred_scenarios() -> None:
    assert len(SCENARIOS) >= 100
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)


@pytest.mark.parametrize(("line", "number"), MALFORMED)
def test_a_malformed_line_is_named_and_nothing_runs(line: str, number: int) -> None:
    out: list[str] = []
    script = [line, '{"as": "ana", "in": "dm", "say": "add task x"}']
    status = asyncio.run(
        run_script(script, write=out.append, now=datetime.fromisoformat(NOW), tz=TZ)
    )
    assert status == 2
    assert len(out) == 1
    error = json.loads(out[0])
    assert set(error) >= {"error"} and f"line {number}" in error["error"]


def _cli(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    kairos = Path(sys.executable).with_name("kairos")
    return subprocess.run(
        [str(kairos), "chat", "--script", "-", "--now", NOW, "--tz", TZ, *args],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_real_command_runs_a_script_with_time_passing() -> None:
    script = "\n".join(
        json.dumps(line)
        for line in [
            {"person": "bob", "tz": "America/New_York"},
            {"as": "ana", "in": "dm", "say": "remind me at 5 to call Bo"},
            {"as": "bob", "in": "#eng", "say": "add task review the release"},
            {"wait": "PT6H"},
            {"restart": True},
            {"dump": "tasks"},
        ]
    )
    done = _cli(script)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0] == {
        "at": "2026-11-26T12:00:00+01:00",
        "to": "ana",
        "in": "dm",
        "visibility": "private",
        "task": 1,
        "text": lines[0]["text"],
    }
    assert lines[0]["text"].startswith("Got it — #1 'call Bo', today Thu 26 Nov 17:00 CET")
    fired = [line for line in lines if line.get("text", "").startswith("Reminder: call Bo")]
    assert fired and fired[0]["at"] == "2026-11-26T17:00:00+01:00"
    tasks = lines[-1]["tasks"]
    assert [t["status"] for t in tasks] == ["done", "open"]
    assert tasks[1]["channel"] == "eng" and tasks[1]["created_by"] == "bob"


def test_the_real_command_exits_2_on_a_malformed_script() -> None:
    done = _cli('{"as": "ana", "say": "hi"}\n{"wait": "later"}\n')
    assert done.returncode == 2
    [line] = done.stdout.splitlines()
    error = json.loads(line)
    assert list(error) == ["error"]
    assert error["error"].startswith("line 2: 'wait'")


ON_BOTH = [
    s for s in SCENARIOS if s.name.startswith(("restart-", "downtime-", "question-survives"))
][:3] + [s for s in SCENARIOS if s.name.startswith("channel-reminder-snoozed")][:1]


@pytest.mark.parametrize("scenario", ON_BOTH, ids=[s.name for s in ON_BOTH])
async def test_scenarios_on_both_databases(scenario: Scenario, database_url: str) -> None:
    """A few scenarios with restarts, downtime and shared places on SQLite and PostgreSQL."""
    out: list[str] = []
    status = await run_script(
        [json.dumps(line) for line in scenario.script],
        write=out.append,
        now=datetime.fromisoformat(scenario.now),
        tz=scenario.tz,
        database_url=database_url,
    )
    lines = [json.loads(line) for line in out]
    assert status == 0
    for want in scenario.expect:
        assert any(_matches(line, want) for line in lines), (want, lines)
