"""``kairos parse --parser``, ``kairos eval parse`` and ``kairos llm usage`` as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from .conftest import KEY
from .fake_anthropic import Answer, FakeAnthropic, said

CORPUS = Path(__file__).parents[1] / "intents" / "corpus_extra.jsonl"


async def kairos(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode(), err.decode()


def _env(fake: FakeAnthropic, tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "KAIROS_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}",
        "KAIROS_ANTHROPIC_API_KEY": KEY,
        "KAIROS_ANTHROPIC_BASE_URL": fake.base_url,  # type: ignore[attr-defined]
        "KAIROS_ANTHROPIC_MODEL": "claude-test",
        **more,
    }


async def test_parse_with_claude_and_the_usage_it_cost(fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.then(
        said(intent="create_reminder", language="es", title="llamar a Bo",
             when={"day": "tomorrow", "clock": "17:00"})
    )  # fmt: skip
    env = _env(fake, tmp_path)
    code, out, err = await kairos(
        "parse", "--parser", "claude", "--now", "2026-12-03T10:00", "--tz", "Europe/Madrid",
        "recuérdame mañana a las 5 de la tarde llamar a Bo", env=env,
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["title"] == "llamar a Bo"
    assert result["next_runs"] == ["2026-12-04T17:00:00+01:00"]
    assert KEY not in out + err
    code, out, err = await kairos("llm", "usage", env=env)
    assert code == 0, err
    assert "claude-test" in out and " 1 " in out


async def test_eval_auto_with_claude_failing_scores_exactly_like_the_rules(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.default = Answer(status=529)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(CORPUS.read_text(encoding="utf-8").splitlines(True)[:80]))
    env = _env(fake, tmp_path, KAIROS_LLM_TIMEOUT_SECONDS="2")
    code, auto, err = await kairos("eval", "parse", str(corpus), "--parser", "auto", env=env)
    assert code == 0, err
    code, rules, err = await kairos("eval", "parse", str(corpus), "--parser", "rules", env=env)
    assert code == 0, err
    assert auto.splitlines()[1:] == rules.splitlines()[1:]
    assert fake.requests  # Claude was asked for the messages the rules were unsure of


async def test_claude_modes_need_the_key(tmp_path: Path) -> None:
    env = {"KAIROS_DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}", "KAIROS_ANTHROPIC_API_KEY": ""}
    code, _out, err = await kairos("parse", "--parser", "auto", "hello", env=env)
    assert code == 2 and "KAIROS_ANTHROPIC_API_KEY" in err
