"""Benchmark: the rule parser vs dateparser's ``search_dates`` on the same texts.

Measures, in one run on the same machine (figures are only comparable as ratios):

* throughput — messages per second, median of several passes over the corpus
  texts (parse-dev.jsonl + tests/intents/corpus_extra.jsonl and corpus_blind.jsonl):
  ``RuleParser.parse``
  (full intent, schedule and next runs) vs ``dateparser.search.search_dates``
  (only finds dates);
* start-up — wall time of ``kairos parse --jsonl -`` on one line vs a Python
  process that imports dateparser and searches one text.

Usage::

    .venv/bin/python bench/parse_bench.py [--runs 5] [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPORA = [
    ROOT.parent / "shared" / "corpus" / "parse-dev.jsonl",
    ROOT / "tests" / "intents" / "corpus_extra.jsonl",
    ROOT / "tests" / "intents" / "corpus_blind.jsonl",
]

Request = tuple[str, datetime, str]


def load_requests() -> list[Request]:
    requests: list[Request] = []
    for path in CORPORA:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            request = json.loads(line)["request"]
            tz = request.get("tz", "UTC")
            now = datetime.fromisoformat(request["now"]).replace(tzinfo=ZoneInfo(tz))
            requests.append((request["text"], now, tz))
    return requests


def throughput(
    step: Callable[[Request], object], requests: list[Request], *, runs: int, seconds: float
) -> tuple[float, list[float]]:
    """Median messages/s over ``runs`` passes, each at least ``seconds`` long."""
    rates = []
    for _ in range(runs):
        count, started = 0, time.perf_counter()
        while True:
            for request in requests:
                step(request)
            count += len(requests)
            elapsed = time.perf_counter() - started
            if elapsed >= seconds:
                break
        rates.append(count / elapsed)
    return statistics.median(rates), rates


def startup(command: list[str], stdin: str, *, runs: int) -> float:
    """Median wall seconds of a process run to completion."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, input=stdin, capture_output=True, text=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=5)
    options.add_argument("--seconds", type=float, default=1.0)
    args = options.parse_args()

    requests = load_requests()
    print(f"corpus: {len(requests)} texts from {', '.join(p.name for p in CORPORA)}")

    from core.intents.rules import RuleParser

    parser = RuleParser()
    rule_rate, rule_all = throughput(
        lambda r: parser.parse(r[0], now=r[1], tz=r[2]),
        requests,
        runs=args.runs,
        seconds=args.seconds,
    )

    warnings.filterwarnings("ignore")
    imported = time.perf_counter()
    from dateparser.search import search_dates

    import_seconds = time.perf_counter() - imported

    def dateparser_step(request: Request) -> object:
        text, now, tz = request
        return search_dates(
            text,
            languages=["en"],
            settings={
                "RELATIVE_BASE": now.replace(tzinfo=None),
                "TIMEZONE": tz,
                "RETURN_AS_TIMEZONE_AWARE": True,
                "PREFER_DATES_FROM": "future",
            },
        )

    dateparser_step(requests[0])  # warm its caches, as a long-running bot would
    dp_rate, dp_all = throughput(dateparser_step, requests, runs=args.runs, seconds=args.seconds)

    line = (
        json.dumps(
            {
                "text": "remind me tomorrow at 3pm to call Ana",
                "now": "2026-11-26T12:00:00",
                "tz": "Europe/Berlin",
            }
        )
        + "\n"
    )
    kairos = str(Path(sys.executable).with_name("kairos"))
    kairos_start = startup([kairos, "parse", "--jsonl", "-"], line, runs=args.runs)
    dp_start = startup(
        [
            sys.executable,
            "-W",
            "ignore",
            "-c",
            "from dateparser.search import search_dates;"
            "search_dates('remind me tomorrow at 3pm to call Ana', languages=['en'])",
        ],
        "",
        runs=args.runs,
    )

    print(f"\nthroughput, messages/s (median of {args.runs} runs of >= {args.seconds:.1f} s)")
    print(
        f"  RuleParser.parse (full intent + next_runs): {rule_rate:10.0f}   "
        f"runs: {', '.join(f'{r:.0f}' for r in rule_all)}"
    )
    print(
        f"  dateparser search_dates (dates only):       {dp_rate:10.0f}   "
        f"runs: {', '.join(f'{r:.0f}' for r in dp_all)}"
    )
    print(f"  ratio rule/dateparser:                      {rule_rate / dp_rate:10.1f}x")
    print(f"\nstart-up, seconds (median of {args.runs} process runs, one message)")
    print(f"  kairos parse --jsonl - (1 line):            {kairos_start:10.3f}")
    print(f"  python + dateparser import + 1 search:      {dp_start:10.3f}")
    print(f"  (dateparser.search import in-process:       {import_seconds:10.3f})")
    print(f"  ratio dateparser/kairos:                    {dp_start / kairos_start:10.1f}x")


if __name__ == "__main__":
    main()
