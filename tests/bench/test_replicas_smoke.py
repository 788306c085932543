"""The chaos benchmark still runs: one real replica, a few reminders, no faults.

Not a measurement (``bench/replicas.py`` prints those): it only checks that
the harness starts ``kairos run`` on a fresh PostgreSQL database, posts signed
slash commands, sees the reminders at the fake Slack and counts them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import PG_ADMIN_DSN, require_postgres  # tests/conftest.py (rootdir import)

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.chaos_report import render  # noqa: E402
from bench.replicas import Options, run_replicas_bench  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_one_replica_delivers_a_few_reminders_once() -> None:
    require_postgres()
    options = Options(
        replicas=1,
        duration=4.0,
        rate=60.0,  # ~4 reminders
        kill_interval=0,
        outage=0,
        lead=(2.0, 3.0),
        outside_share=0.0,  # only what the replica itself was asked for
        latency=(0.0, 0.05),
        drain=15.0,
        pg_dsn=PG_ADMIN_DSN,
        seed=7,
    )
    figures = await run_replicas_bench(options)
    chaos = figures["chaos"]
    assert chaos["stored"] >= 3, figures
    assert chaos["delivered"] == chaos["stored"] and chaos["lost"] == 0, figures
    assert chaos["delivered_twice"] == 0, figures
    assert "LOST 0" in render(figures)
