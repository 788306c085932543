"""``bench/executor_runs.py`` at toy sizes: the measurements run end to end and produce
their ``--json`` keys. Not a measurement: no figure is judged here."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.executor_runs import http_runs, shell_overhead  # noqa: E402
from bench.scheduler_bench import MEASUREMENTS, BenchOptions  # noqa: E402


async def test_shell_and_http_measurements_produce_their_keys() -> None:
    options = BenchOptions(tasks=0, lookahead=2.0, say=lambda _message: None)
    shell = await shell_overhead(options, runs=20, passes=1)
    http = await http_runs(options, size=40)
    assert shell["shell_overhead_ratio"] > 0
    assert http["http_runs_per_sec"] > 0
    assert http["http_bare_httpx_per_sec"] > 0  # the peer, same server, same run
    assert {"shell", "http"} <= MEASUREMENTS.keys()  # `kairos bench scheduler` runs them
