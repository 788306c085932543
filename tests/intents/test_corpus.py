"""The rule parser on the shared development corpus and on our own held-out corpus."""

from __future__ import annotations

import os

import pytest

from core.intents.rules import RuleParser

from .scoring import BLIND_CORPUS, EXTRA_CORPUS, SHARED_CORPUS, load, score

THRESHOLD = 0.95


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def test_dev_corpus() -> None:
    if not SHARED_CORPUS.exists():
        reason = (
            f"{SHARED_CORPUS} is missing (the project's shared/ folder is not beside this "
            "clone); set KAIROS_SHARED_DIR to run this test"
        )
        if not _under_ci():  # a fresh clone still passes `make test`; CI must have it
            pytest.skip(reason)
        pytest.fail(reason)
    result = score(RuleParser(), load(SHARED_CORPUS))
    print("\n" + result.table("parse-dev.jsonl"))
    assert result.rate >= THRESHOLD, result.table("parse-dev.jsonl")


def test_extra_corpus() -> None:
    cases = load(EXTRA_CORPUS)
    assert len(cases) >= 80
    result = score(RuleParser(), cases)
    print("\n" + result.table("corpus_extra.jsonl"))
    assert result.rate >= THRESHOLD, result.table("corpus_extra.jsonl")


def test_blind_corpus() -> None:
    """Phrasings written before the grammar was looked at (see the file's kinds)."""
    cases = load(BLIND_CORPUS)
    assert len(cases) >= 120
    result = score(RuleParser(), cases)
    print("\n" + result.table("corpus_blind.jsonl"))
    assert result.rate >= THRESHOLD, result.table("corpus_blind.jsonl")
