"""Helpers for the intent parser tests: one parser, and short ways to ask it things."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.intents.model import Intent
from core.intents.rules import RuleParser

Parse = Callable[..., Intent]


@pytest.fixture(scope="session")
def parser() -> RuleParser:
    return RuleParser()


def at(iso: str, tz: str) -> datetime:
    """An aware datetime from a wall-clock ISO string in ``tz``."""
    return datetime.fromisoformat(iso).replace(tzinfo=ZoneInfo(tz))


def iso(values: list[datetime]) -> list[str]:
    """Instants as ISO strings with offset (for readable assertion failures)."""
    return [v.isoformat() for v in values]


@pytest.fixture()
def parse(parser: RuleParser) -> Parse:
    """``parse(text, now="2027-03-01T08:00", tz="America/Chicago")``."""

    def run(text: str, now: str = "2027-03-01T08:00", tz: str = "America/Chicago") -> Intent:
        return parser.parse(text, now=at(now, tz), tz=tz)

    return run
