"""Building the Claude pieces from settings — or nothing, when no key is set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.intents.chain import ParserChain
from core.intents.rules import RuleParser
from core.ports import Clock

if TYPE_CHECKING:  # anthropic and instructor take seconds to import: only with a key
    from bot.settings import Settings
    from integrations.llm.client import ClaudeClient, UsageLedger
    from integrations.llm.narrator import ClaudeNarrator
    from integrations.llm.parser import ClaudeParser
    from integrations.llm.planner import ClaudePlanner
    from integrations.llm.rerank import ClaudeReranker
    from integrations.llm.translator import ClaudeTranslator


@dataclass(frozen=True, slots=True)
class Claude:
    """The client and what is built on it."""

    client: ClaudeClient
    parser: ClaudeParser
    planner: ClaudePlanner
    reranker: ClaudeReranker
    narrator: ClaudeNarrator
    translator: ClaudeTranslator


def build_claude(settings: Settings, *, ledger: UsageLedger, clock: Clock) -> Claude | None:
    """``None`` without ``KAIROS_ANTHROPIC_API_KEY``: Kairos then runs fully offline."""
    if settings.anthropic_api_key is None:
        return None
    from integrations.llm.client import ClaudeClient, ClaudeConfig
    from integrations.llm.narrator import ClaudeNarrator
    from integrations.llm.parser import ClaudeParser
    from integrations.llm.planner import ClaudePlanner
    from integrations.llm.rerank import ClaudeReranker
    from integrations.llm.translator import ClaudeTranslator

    client = ClaudeClient(
        config=ClaudeConfig(
            api_key=settings.anthropic_api_key,
            model=settings.anthropic_model,
            base_url=settings.anthropic_base_url,
            daily_tokens=settings.llm_daily_tokens,
            timeout_seconds=settings.llm_timeout_seconds,
        ),
        ledger=ledger,
        clock=clock,
    )
    return Claude(
        client=client,
        parser=ClaudeParser(client=client),
        planner=ClaudePlanner(client=client),
        reranker=ClaudeReranker(client=client),
        narrator=ClaudeNarrator(model=client),
        translator=ClaudeTranslator(
            client=client, timeout_seconds=settings.llm_translate_timeout_seconds
        ),
    )


def build_chain(
    settings: Settings, *, rules: RuleParser, claude: Claude | None, mode: str | None = None
) -> ParserChain:
    """The conversation's parser: the rules, and Claude behind them when configured."""
    return ParserChain(
        rules=rules,
        model=claude.parser if claude else None,
        threshold=settings.confidence_threshold,
        timeout_seconds=settings.llm_timeout_seconds,
        mode=mode or settings.llm_parser,
    )
