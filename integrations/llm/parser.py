"""``ClaudeParser``: Claude reports what a message says; Kairos computes the times.

Claude answers with a ``core.intents.said.Said`` (validated by pydantic through
``instructor``; an answer that fails validation is sent back with the errors, a
bounded number of times). ``core.intents.said.to_intent`` then computes the
instants and next runs with the rule parser's own grammar.
"""

from __future__ import annotations

from core.intents.rules import RuleParser
from core.intents.said import Said, to_intent
from core.ports import ParseContext, Reading
from integrations.llm.client import ClaudeClient
from prompts import load


class ClaudeParser:
    """Implements ``core.ports.AsyncIntentParser`` with Claude."""

    def __init__(self, *, client: ClaudeClient, rules: RuleParser | None = None) -> None:
        self._client = client
        self._rules = rules or RuleParser()
        self._prompt = load("parse")

    async def read(self, text: str, context: ParseContext) -> Reading:
        """Claude's reading of ``text``; raises ``ModelUnavailable`` / ``BudgetExhausted``."""
        said = await self._client.structured(
            purpose="parse",
            system=self._prompt.render(),
            prompt=_message(text, context),
            response_model=Said,
            workspace_id=context.workspace_id,
        )
        intent = to_intent(said, rules=self._rules, now=context.now, tz=context.tz)
        if context.user != "me":
            intent.assignees = [
                "me" if name.lower() == context.user.lower() else name for name in intent.assignees
            ]
        return Reading(intent=intent, parser="claude", language=said.language)


def _message(text: str, context: ParseContext) -> str:
    """The user turn: the message and its context (the cached system prompt stays fixed)."""
    now = context.now.isoformat(timespec="minutes")
    lines = [f"Now: {now} ({context.now.strftime('%A')}), the speaker's zone: {context.tz}."]
    if context.question:
        lines.append(f"Kairos just asked this person about: {context.question!r}.")
    if context.task_title:
        lines.append(f"Said in the thread of the task {context.task_title!r}.")
    lines.append(f"Message: {text}")
    return "\n".join(lines)
