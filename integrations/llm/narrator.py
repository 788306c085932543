"""``ClaudeNarrator``: a few sentences by Claude on top of a report's figures."""

from __future__ import annotations

from core.errors import KairosError
from core.insight.report import Report
from core.ports import LanguageModel
from prompts import load


class ClaudeNarrator:
    """Implements ``core.insight.report.Narrator``; the figures always go out, with or
    without the narrative (an unavailable model or a spent budget gives none)."""

    def __init__(self, *, model: LanguageModel) -> None:
        self._model = model
        self._prompt = load("report")

    async def narrate(self, report: Report, text: str, *, workspace_id: int) -> str | None:
        try:
            answer = await self._model.complete(
                purpose="report_narrative",
                system=self._prompt.render(),
                prompt=text,
                workspace_id=workspace_id,
                max_tokens=300,
            )
        except KairosError:
            return None
        return answer.text.strip() or None
