"""``kairos workflow`` as a person runs it: real processes on a real SQLite file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

KAIROS = [sys.executable, "-m", "bot"]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KAIROS, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_new_show_dot_png_run_and_list(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAIROS_")}
    env.update(
        KAIROS_DATABASE_URL=f"sqlite:///{tmp_path / 'k.db'}",
        KAIROS_DATA_DIR=str(tmp_path / "data"),
        KAIROS_DEFAULT_TIMEZONE="UTC",
    )
    made = run(env, "workflow", "new", "bug fix", "login crash")
    assert made.returncode == 0, made.stderr
    assert made.stdout.splitlines() == [
        "Workflow 'bug fix login crash' (not run yet)",
        "login crash: reproduce · not reached",
        "└→ login crash: fix · not reached",
        "   └→ login crash: test · not reached",
        "      └→ login crash: review · not reached",
        "         └→ login crash: deploy · not reached",
    ]
    started = run(env, "workflow", "run", "bug fix login crash")
    assert started.stdout.strip() == "Started run 1 of 'bug fix login crash'.", started.stderr
    picture = tmp_path / "wf.png"
    shown = run(env, "workflow", "show", "login crash", "--dot", "--png", str(picture))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith('digraph "bug fix login crash" {')
    assert 't1 [label="login crash: reproduce\\npending", fillcolor="#f9e2af"];' in shown.stdout
    image = Image.open(io.BytesIO(picture.read_bytes()))
    assert image.format == "PNG" and image.width > 300
    listed = run(env, "workflow", "list")
    assert listed.stdout.strip() == "bug fix login crash  ·  run 1 running"
    missing = run(env, "workflow", "show", "nope")
    assert missing.returncode == 1
    assert "There is no workflow called 'nope'." in missing.stderr
