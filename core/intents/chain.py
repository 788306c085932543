"""``ParserChain``: the rules first, Claude when they are unsure; never worse than the rules.

Routing: the rule parser reads every message (it is free and instant). The
model is asked only when that reading is below the confidence threshold, says
``unknown``, or the message is long or compound ("… and then …", several
sentences) — where rules are weakest — or is not in English, the only language
the rules read (``core.intents.language``). A timeout, an error, invalid output or an
exhausted budget from the model falls back to the rules' reading, silently: the
person gets the offline answer, the log gets one line.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace

from core.errors import KairosError
from core.intents.language import EnglishCheck
from core.intents.model import IntentKind
from core.intents.rules import RuleParser
from core.ports import AsyncIntentParser, ParseContext, Reading

log = logging.getLogger(__name__)

#: Messages longer than this many words go to the model even when the rules are sure.
LONG_MESSAGE_WORDS = 25
#: "… and then …", ", then …", ";", or a second sentence.
_COMPOUND = re.compile(r"\band then\b|,\s*then\b|;|[.!?]\s+[A-Z]")


def needs_model(text: str, reading: Reading, *, threshold: float) -> bool:
    """Whether the rules' ``reading`` of ``text`` should be checked by the model."""
    intent = reading.intent
    return (
        intent.intent is IntentKind.UNKNOWN
        or intent.confidence < threshold
        or len(text.split()) > LONG_MESSAGE_WORDS
        or bool(_COMPOUND.search(text.strip()))
    )


class RuleReader:
    """The offline ``RuleParser`` behind the async, context-taking port."""

    def __init__(self, rules: RuleParser) -> None:
        self.rules = rules

    async def read(self, text: str, context: ParseContext) -> Reading:
        intent = self.rules.parse(
            text,
            now=context.now,
            tz=context.tz,
            user=context.user,
            date_order=context.date_order,
        )
        return Reading(intent=intent)


class ParserChain:
    """Implements ``core.ports.AsyncIntentParser``: rules, then the model when worth it.

    ``mode``: ``auto`` (the routing above), ``rules`` (never the model), ``claude``
    (always the model, the rules only as the fallback).
    """

    def __init__(
        self,
        *,
        rules: RuleParser,
        model: AsyncIntentParser | None = None,
        threshold: float = 0.6,
        timeout_seconds: float = 20.0,
        mode: str = "auto",
        english: EnglishCheck | None = None,
    ) -> None:
        if mode not in ("auto", "rules", "claude"):
            raise ValueError(f"unknown parser mode {mode!r}: use rules, claude or auto")
        self.rules = RuleReader(rules)
        self.model = model
        self.english = english or EnglishCheck()
        self.threshold = threshold
        self.timeout_seconds = timeout_seconds
        self.mode = mode

    async def read(self, text: str, context: ParseContext) -> Reading:
        reading = await self.rules.read(text, context)
        if self.model is None or self.mode == "rules":
            return reading
        if not await self.english.is_english(text):
            reading = self._doubted(reading)
        elif self.mode == "auto" and not needs_model(text, reading, threshold=self.threshold):
            return reading
        try:
            async with asyncio.timeout(self.timeout_seconds):
                claude = await self.model.read(text, context)
        except TimeoutError:
            log.warning("Claude did not answer within %.0fs; using the rules", self.timeout_seconds)
            return reading
        except KairosError as exc:
            log.warning("Claude unavailable (%s); using the rules", exc.message)
            return reading
        except Exception:  # a parser must never take the conversation down
            log.exception("Claude parser failed; using the rules")
            return reading
        if claude.intent.intent is IntentKind.UNKNOWN:
            return reading  # the rules may still have understood something
        return claude

    def _doubted(self, reading: Reading) -> Reading:
        """The rules' reading of a message not in English: they read only its English
        words, so it is never sure (the person is asked before anything is done) and
        names no language."""
        confidence = min(reading.intent.confidence, round(self.threshold - 0.1, 2))
        intent = reading.intent.model_copy(update={"confidence": max(confidence, 0.05)})
        return replace(reading, intent=intent, language=None)
