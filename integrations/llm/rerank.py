"""``ClaudeReranker``: Claude orders search findings and answers with references."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from core.ports import Finding
from integrations.llm.client import ClaudeClient
from prompts import load


class Ranked(BaseModel):
    """Claude's answer: finding numbers by relevance and one sentence."""

    order: list[int] = Field(description="numbers of relevant findings, most relevant first")
    answer: str = Field(max_length=600)


class ClaudeReranker:
    """Implements ``bot.conversation.related.Reranker`` with Claude."""

    def __init__(self, *, client: ClaudeClient) -> None:
        self._client = client
        self._prompt = load("rerank")

    async def rerank(
        self, question: str, findings: Sequence[Finding], *, workspace_id: int
    ) -> tuple[list[int], str]:
        listed = "\n".join(f"{i}. {f.ref} {f.title}: {f.text}" for i, f in enumerate(findings))
        ranked = await self._client.structured(
            purpose="rerank",
            system=self._prompt.render(),
            prompt=f"Question: {question}\n\nFindings:\n{listed}",
            response_model=Ranked,
            workspace_id=workspace_id,
            max_tokens=600,
        )
        return ranked.order, ranked.answer
