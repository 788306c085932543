"""The corpora of the parser tests; the scoring itself is ``core.intents.scoring``."""

from __future__ import annotations

import os
from pathlib import Path

from core.intents.scoring import Score, field_ok, load, score

#: The project's read-only ``shared/`` folder lies beside the repository
#: (``../shared``); ``KAIROS_SHARED_DIR`` points elsewhere.
SHARED_DIR = Path(
    os.environ.get("KAIROS_SHARED_DIR") or Path(__file__).resolve().parents[2].parent / "shared"
)
SHARED_CORPUS = SHARED_DIR / "corpus" / "parse-dev.jsonl"
EXTRA_CORPUS = Path(__file__).with_name("corpus_extra.jsonl")
#: Written blind, before the grammar was looked at; cases may carry a ``date_order``.
BLIND_CORPUS = Path(__file__).with_name("corpus_blind.jsonl")

__all__ = ["BLIND_CORPUS", "EXTRA_CORPUS", "SHARED_CORPUS", "Score", "field_ok", "load", "score"]
