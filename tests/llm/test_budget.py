"""The daily token budget and the usage ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from core.clock import ManualClock
from core.errors import BudgetExhausted
from core.intents.chain import ParserChain
from core.intents.rules import RuleParser
from core.models import Workspace
from core.ports import ParseContext
from core.store import SqlStore
from integrations.llm.client import ClaudeClient
from integrations.llm.parser import ClaudeParser

from .fake_anthropic import Answer, FakeAnthropic, said

UNSURE = "bitte erinnere mich morgen"  # the rules do not read German: Claude is asked


def _said() -> Answer:
    answer = said(intent="create_reminder", language="de", when={"day": "tomorrow"})
    answer.input_tokens, answer.output_tokens = 600, 50
    answer.cache_read, answer.cache_write = 1200, 0
    return answer


async def test_every_call_is_recorded_with_tokens_cache_reads_and_latency(
    fake: FakeAnthropic, claude: ClaudeClient, store: SqlStore, clock: ManualClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    fake.then(_said())
    context = ParseContext(now=clock.now(), tz="UTC", workspace_id=workspace.id)
    await ClaudeParser(client=claude).read(UNSURE, context)
    (row,) = await store.llm_usage(since=clock.now() - timedelta(days=1))
    assert (row.workspace_id, row.model, row.calls) == (workspace.id, "claude-test", 1)
    assert (row.input_tokens, row.output_tokens, row.cache_read_tokens) == (600, 50, 1200)
    assert row.mean_latency_ms >= 0
    assert await store.llm_tokens_since(workspace_id=workspace.id, since=clock.now()) == 1850


async def test_an_exhausted_budget_stops_calls_and_the_chain_uses_the_rules(
    fake: FakeAnthropic, make_claude: Callable[..., ClaudeClient], store: SqlStore,
    clock: ManualClock, workspace: Workspace,
) -> None:  # fmt: skip
    client = make_claude(daily_tokens=2000)
    context = ParseContext(now=clock.now(), tz="UTC", workspace_id=workspace.id)
    fake.then(_said())
    assert await client.tokens_left(workspace.id) == 2000
    await ClaudeParser(client=client).read(UNSURE, context)  # 1850 used
    assert await client.tokens_left(workspace.id) == 150
    fake.then(_said())
    await ClaudeParser(client=client).read(UNSURE, context)  # allowed: 150 left before it
    assert await client.tokens_left(workspace.id) == 0
    with pytest.raises(BudgetExhausted) as refused:
        await ClaudeParser(client=client).read(UNSURE, context)
    assert "KAIROS_LLM_DAILY_TOKENS" in refused.value.user_message()
    assert len(fake.requests) == 2  # the refused call never left Kairos
    chain = ParserChain(rules=RuleParser(), model=ClaudeParser(client=client))
    reading = await chain.read(UNSURE, context)
    assert reading.parser == "rules" and len(fake.requests) == 2
    # Another workspace has its own budget; the next UTC day starts afresh.
    assert await client.tokens_left(None) == 2000
    clock.advance(timedelta(days=1))
    assert await client.tokens_left(workspace.id) == 2000


async def test_failed_and_invalid_requests_are_recorded_too(
    fake: FakeAnthropic, make_claude: Callable[..., ClaudeClient], store: SqlStore,
    clock: ManualClock,
) -> None:  # fmt: skip
    client = make_claude(max_retries=0, validation_retries=1)
    fake.then(said(intent="create_reminder", when={"clock": "3pm"}), _said())
    await ClaudeParser(client=client).read(UNSURE, ParseContext(now=clock.now(), tz="UTC"))
    (row,) = await store.llm_usage(since=clock.now() - timedelta(days=1))
    assert row.calls == 2 and row.input_tokens == 700  # the invalid answer cost 100 in
