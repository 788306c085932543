"""Scoring a parser on a PARSING.md corpus (`kairos eval parse` and the corpus test)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.ports import IntentParser


def load(path: Path) -> list[dict[str, Any]]:
    """The cases of a JSONL corpus file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _instant(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def field_ok(name: str, want: Any, got: Any) -> bool:
    """Compare one field the way PARSING.md says (instants as instants, dicts field-wise)."""
    if name == "next_runs":
        return isinstance(got, list) and [_instant(x) for x in got] == [_instant(x) for x in want]
    if name == "due" or name == "at":
        return bool(_instant(want) == _instant(got))
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return False
        return all(field_ok(key, value, got.get(key)) for key, value in want.items())
    return bool(want == got)


@dataclass
class Score:
    """Per-field and whole-case results of one corpus run."""

    cases: int = 0
    perfect: int = 0
    checked: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Share of cases with every expected field right."""
        return self.perfect / self.cases if self.cases else 0.0

    def table(self, title: str) -> str:
        """A printable per-field score table plus the failures."""
        lines = [
            f"{title}: {self.perfect}/{self.cases} cases fully right ({self.rate:.1%})",
            f"{'field':<12} {'right':>6} {'checked':>8} {'score':>7}",
        ]
        for name in sorted(self.checked):
            ratio = self.right[name] / self.checked[name]
            lines.append(f"{name:<12} {self.right[name]:>6} {self.checked[name]:>8} {ratio:>7.1%}")
        lines += self.failures
        return "\n".join(lines)


def score(parser: IntentParser, cases: list[dict[str, Any]]) -> Score:
    """Run every case through ``parser`` and compare its ``expect`` fields."""
    result = Score()
    for case in cases:
        request = case["request"]
        tz = request.get("tz", "UTC")
        now = datetime.fromisoformat(request["now"])
        if now.tzinfo is None:
            now = now.replace(tzinfo=ZoneInfo(tz))
        # The workspace's date order is context only some cases give (and some parsers take).
        extra = {"date_order": request["date_order"]} if "date_order" in request else {}
        got = parser.parse(
            request["text"], now=now, tz=tz, user=request.get("user", "me"), **extra
        ).to_json()
        result.cases += 1
        wrong = []
        for name, want in case["expect"].items():
            result.checked[name] += 1
            if field_ok(name, want, got.get(name)):
                result.right[name] += 1
            else:
                wrong.append(f"    {name}: want {want!r}, got {got.get(name)!r}")
        if wrong:
            result.failures.append(f"  {case.get('id', '?')}: {request['text']!r}")
            result.failures += wrong
        else:
            result.perfect += 1
    return result
