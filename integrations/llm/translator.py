"""``ClaudeTranslator``: Kairos's replies in the speaker's language, by Claude.

One request per reply (its text and its button labels together), answered as a
``Translation`` (validated by pydantic through ``instructor``). Translations are
kept in memory per (text, language), so a reply Kairos says often costs one
request per process. Every request is charged to the workspace's daily budget.
Whether a translation is used at all — the speaker's language, a short timeout,
and the check that ids, mentions, times and quoted titles survived — is decided
by the conversation (``bot.conversation.languages``); this only translates.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence

from pydantic import BaseModel, Field

from core.errors import ModelUnavailable
from integrations.llm.client import ClaudeClient
from prompts import load

#: Translations kept in memory (text, language) → text; the oldest go first.
CACHE_SIZE = 2048

LANGUAGE_NAMES = {
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "cs": "Czech",
    "tr": "Turkish",
    "ru": "Russian",
    "uk": "Ukrainian",
    "ja": "Japanese",
    "zh": "Chinese",
    "ko": "Korean",
}


class Translation(BaseModel):
    """Claude's answer: the texts translated, in the order given."""

    texts: list[str] = Field(description="the translated texts, same order and number")


class ClaudeTranslator:
    """Implements ``core.ports.Translator`` with Claude."""

    def __init__(self, *, client: ClaudeClient, timeout_seconds: float = 5.0) -> None:
        self._client = client
        self._prompt = load("translate")
        self._timeout = timeout_seconds
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()

    async def translate(
        self, texts: Sequence[str], *, language: str, workspace_id: int | None
    ) -> list[str]:
        missing = list(dict.fromkeys(t for t in texts if (t, language) not in self._cache))
        if missing:
            got = await self._client.structured(
                purpose="translate",
                system=self._prompt.render(),
                prompt=_request(missing, language),
                response_model=Translation,
                workspace_id=workspace_id,
                max_tokens=2048,
                quick_seconds=self._timeout,
            )
            if len(got.texts) != len(missing):
                raise ModelUnavailable(
                    f"Claude translated {len(got.texts)} texts of {len(missing)}.",
                    hint="The reply is sent in English.",
                )
            for text, translated in zip(missing, got.texts, strict=True):
                self._remember((text, language), translated)
        out = []
        for text in texts:
            self._cache.move_to_end((text, language))
            out.append(self._cache[(text, language)])
        return out

    def _remember(self, key: tuple[str, str], value: str) -> None:
        self._cache[key] = value
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)


def _request(texts: Sequence[str], language: str) -> str:
    name = LANGUAGE_NAMES.get(language, language)
    listed = json.dumps(list(texts), ensure_ascii=False, indent=1)
    return f"Translate into {name} ({language}) these {len(texts)} texts:\n{listed}"
