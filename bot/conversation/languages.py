"""Replies in the speaker's language.

When Claude reads a message it also reports the message's language (ISO 639-1,
``core.ports.Reading.language``). Kairos's whole reply to that message —
confirmation, question or error, and its buttons — is then put into that
language by a ``core.ports.Translator`` (Claude, ``integrations.llm.translator``),
within a short timeout and the workspace's token budget. The reply is written by
Kairos first, in English, from what Kairos computed; the translation must keep
every task id, mention, clock time, quoted title, code span and URL of it
character for character (``kept_intact``), or the English reply goes out
instead: a translation can never confirm something that will not happen. A
timeout, an error, a spent budget or no key: English, with the fixed lead words
below ("Got it", "Updated", …) in the speaker's language where Kairos knows them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import replace

from core.messages import Reply
from core.ports import Translator

log = logging.getLogger(__name__)

_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "Got it": "Verstanden",
        "Updated": "Geändert",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Das habe ich leider nicht verstanden. Sag 'help', um zu sehen, was ich kann."
        ),
    },
    "es": {
        "Got it": "Entendido",
        "Updated": "Actualizado",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Lo siento, no lo entendí. Escribe 'help' para ver lo que puedo hacer."
        ),
    },
    "fr": {
        "Got it": "C'est noté",
        "Updated": "Modifié",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Désolé, je n'ai pas compris. Écris 'help' pour voir ce que je sais faire."
        ),
    },
    "it": {
        "Got it": "Fatto",
        "Updated": "Aggiornato",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Scusa, non ho capito. Scrivi 'help' per vedere cosa so fare."
        ),
    },
    "pt": {
        "Got it": "Entendido",
        "Updated": "Atualizado",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Desculpe, não entendi. Escreva 'help' para ver o que eu sei fazer."
        ),
    },
    "nl": {
        "Got it": "Begrepen",
        "Updated": "Bijgewerkt",
        "Sorry, I didn't understand that. Say 'help' to see what I can do.": (
            "Sorry, dat begreep ik niet. Zeg 'help' om te zien wat ik kan."
        ),
    },
}


def say(words: str, language: str) -> str:
    """``words`` in ``language`` when Kairos knows them there, else as they are."""
    return _WORDS.get(language, {}).get(words, words)


#: What a translation must keep exactly: task ids, channels and people (#12, #eng,
#: @ana), clock times, single-quoted titles and commands, code spans, URLs.
_PROTECTED = re.compile(
    r"https?://\S+|`[^`\n]+`|(?<!\w)'(?P<quoted>(?:[^'\n]|'(?=\w))+?)'(?!\w)|[#@][\w.-]*\w|\b\d{1,2}:\d{2}\b"
)


def protected(text: str) -> list[str]:
    """The parts of ``text`` a translation must keep as they are."""
    return [m["quoted"] or m[0] for m in _PROTECTED.finditer(text)]


def kept_intact(english: str, translated: str) -> bool:
    """Whether ``translated`` still holds every protected part of ``english``."""
    return bool(translated.strip()) and all(p in translated for p in protected(english))


class ReplyLanguage:
    """Puts replies into the speaker's language, or leaves them in English."""

    def __init__(self, *, translator: Translator, timeout_seconds: float = 5.0) -> None:
        self._translator = translator
        #: The longest a person waits for a translation (then: English).
        self.timeout_seconds = timeout_seconds

    async def into(
        self, out: Sequence[Reply], language: str, *, workspace_id: int | None
    ) -> list[Reply]:
        """``out`` in ``language``; English replies as they are when it cannot be done."""
        out = list(out)
        if language == "en" or not out:
            return out
        texts = [r.text for r in out] + [b.label for r in out for b in r.buttons]
        try:
            async with asyncio.timeout(self.timeout_seconds + 1):
                got = await self._translator.translate(
                    texts, language=language, workspace_id=workspace_id
                )
        except TimeoutError:
            log.warning(
                "no translation into %s within %.0fs; replying in English",
                language,
                self.timeout_seconds,
            )
            return out
        except Exception as exc:  # a translation must never cost the reply
            log.warning(
                "no translation into %s (%s); replying in English",
                language,
                getattr(exc, "message", type(exc).__name__),
            )
            return out
        if len(got) != len(texts) or not all(map(kept_intact, texts, got)):
            log.warning(
                "a translation into %s lost ids, times or titles; replying in English", language
            )
            return out
        labels = iter(got[len(out) :])
        return [
            replace(
                reply,
                text=text,
                buttons=tuple(replace(b, label=next(labels)) for b in reply.buttons),
            )
            for reply, text in zip(out, got, strict=False)
        ]
