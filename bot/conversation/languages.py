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
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.conversation.labels import CATALOG
from core.errors import BudgetExhausted
from core.intents.chain import needs_model
from core.intents.language import is_sentence
from core.intents.model import IntentKind
from core.messages import ENGLISH, Labels, Reply, TaskLine, placeholders
from core.ports import Reading, Translator

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


#: "yes" and "no" in the languages Kairos replies in (English's are the conversation's).
YES_WORDS = frozenset({"ja", "jawohl", "sí", "si", "oui", "sim", "certo", "tak", "kyllä", "evet"})
NO_WORDS = frozenset({"nein", "non", "não", "nee", "nej", "nie", "ei", "hayır"})


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


def kept_intact(english: str, translated: str, keep: Sequence[str] = ()) -> bool:
    """Whether ``translated`` still holds every protected part of ``english`` (and of
    ``keep``, words such as task titles that ``english`` holds unquoted)."""
    return bool(translated.strip()) and all(
        p in translated for p in [*protected(english), *(k for k in keep if k in english)]
    )


def shown_language(reading: Reading, text: str, *, threshold: float) -> str | None:
    """The language ``text`` clearly shows, or ``None`` ("ja", "ok", "3", "#12").

    Claude's reading names it; an English sentence the rules read with confidence
    is English. Anything else leaves the speaker's last language as it was.
    """
    if reading.parser == "claude":
        return reading.language
    sure = reading.intent.intent is not IntentKind.UNKNOWN and not needs_model(
        text, reading, threshold=threshold
    )
    return "en" if sure and is_sentence(text) and reading.language == "en" else None


class ReplyLanguage:
    """Puts replies and posts into a language, or leaves them in English.

    After a translation fails (a timeout, an error, a spent budget) none is tried
    for ``pause_seconds``: a burst of reminders never waits out the timeout each.
    """

    def __init__(
        self, *, translator: Translator, timeout_seconds: float = 5.0, pause_seconds: float = 60.0
    ) -> None:
        self._translator = translator
        #: The longest a person (or a post) waits for a translation (then: English).
        self.timeout_seconds = timeout_seconds
        self.pause_seconds = pause_seconds
        self._paused_until = 0.0
        #: The catalog per language, once translated; when not to ask again before.
        self._labels: dict[str, Labels] = {}
        self._labels_retry: dict[str, float] = {}
        self._labels_lock = asyncio.Lock()

    async def texts(
        self,
        texts: Sequence[str],
        language: str,
        *,
        workspace_id: int | None,
        keep: Sequence[str] = (),
        each: bool = False,
    ) -> list[str]:
        """``texts`` in ``language``, each keeping its protected parts (and ``keep``);
        ``texts`` as they are when that cannot be done. ``each``: a text whose
        translation lost something stays English alone, the others are translated."""
        texts = list(texts)
        if language == "en" or not texts or time.monotonic() < self._paused_until:
            return texts
        try:
            async with asyncio.timeout(self.timeout_seconds + 1):
                got = await self._translator.translate(
                    texts, language=language, workspace_id=workspace_id
                )
        except Exception as exc:  # a translation must never cost the reply
            # A spent budget is one workspace's: the others' translations go on.
            pause = 0.0 if isinstance(exc, BudgetExhausted) else self.pause_seconds
            self._paused_until = max(self._paused_until, time.monotonic() + pause)
            why = "no answer in time" if isinstance(exc, TimeoutError) else type(exc).__name__
            log.warning(
                "no translation into %s (%s); English for %.0fs",
                language,
                getattr(exc, "message", why),
                pause,
            )
            return texts
        kept = (
            [kept_intact(t, g, keep) for t, g in zip(texts, got, strict=True)]
            if len(got) == len(texts)
            else []
        )
        if kept and each:
            return [g if ok else t for t, g, ok in zip(texts, got, kept, strict=True)]
        if not kept or not all(kept):
            log.warning(
                "a translation into %s lost ids, times or titles; keeping English", language
            )
            return texts
        return got

    async def labels(self, language: str, *, workspace_id: int | None) -> Labels:
        """Kairos's fixed words (``bot.conversation.labels.CATALOG``) in ``language``:
        translated in one request the first time, then from memory. When that fails,
        English, and the language is not asked for again for ``pause_seconds``."""
        known = ENGLISH if language == "en" else self._labels.get(language)
        if known is not None:
            return known
        async with self._labels_lock:  # a burst of cards asks once
            known = self._labels.get(language)
            if known is not None or time.monotonic() < self._labels_retry.get(language, 0.0):
                return known or ENGLISH
            keep = [p for text in CATALOG for p in placeholders(text)]
            got = await self.texts(
                CATALOG, language, workspace_id=workspace_id, keep=keep, each=True
            )
            words = {e: t for e, t in zip(CATALOG, got, strict=True) if t != e}
            if not words:
                self._labels_retry[language] = time.monotonic() + self.pause_seconds
                return ENGLISH
            labels = self._labels[language] = Labels(language, words)
            return labels

    async def around(
        self,
        texts: Sequence[str],
        language: str,
        *,
        workspace_id: int | None,
        verbatim: Sequence[str],
    ) -> list[str]:
        """``texts`` in ``language`` with every occurrence of ``verbatim`` (what people
        wrote: task titles) held out of the translation and put back byte for byte.
        ``texts`` as they are when that cannot be done."""
        words = sorted({w for w in verbatim if w}, key=len, reverse=True)
        if not words:
            return await self.texts(texts, language, workspace_id=workspace_id)
        if language == "en" or any(_HELD.search(t) for t in texts):
            return list(texts)  # no token could be told from the text itself
        token = {w: f"{{w{i}}}" for i, w in enumerate(words)}
        either = re.compile("|".join(map(re.escape, words)))
        held = [either.sub(lambda m: token[m[0]], t) for t in texts]
        got = await self.texts(held, language, workspace_id=workspace_id, keep=[*token.values()])
        if got == held:
            return list(texts)
        return [_HELD.sub(lambda m: _held(words, m), g) for g in got]

    async def into(
        self, out: Sequence[Reply], language: str, *, workspace_id: int | None
    ) -> list[Reply]:
        """``out`` in ``language``; English replies as they are when it cannot be done.

        The replies go as a whole (their text, buttons, heading, section titles and
        the times of a task list's lines); the titles of a task list are held out of
        the translation and put back as written (``around``). A translated reply
        carries the catalog in its language (``Reply.labels``) for the words
        renderers add to it.
        """
        out = list(out)
        titles = [line.title for reply in out for line in reply.tasks]
        parts = list(dict.fromkeys(part for reply in out for part in _parts(reply)))
        got = await self.around(parts, language, workspace_id=workspace_id, verbatim=titles)
        if got == parts:  # English: no key, a failure, or nothing to translate
            return out
        said = dict(zip(parts, got, strict=True))
        labels = await self.labels(language, workspace_id=workspace_id)  # once per language
        return [_rebuilt(reply, said, labels) for reply in out]


#: A held-out piece of people's words in a text sent to be translated (``around``).
_HELD = re.compile(r"\{w(\d+)\}")


def _held(words: Sequence[str], token: re.Match[str]) -> str:
    """The words a token stands for (a token the translation made up stays as it is)."""
    index = int(token[1])
    return words[index] if index < len(words) else token[0]


def _parts(reply: Reply) -> list[str]:
    """The words of ``reply`` that Kairos wrote and a translation replaces."""
    heading = [reply.fields["heading"]] if "heading" in reply.fields else []
    return [
        reply.text,
        *(b.label for b in reply.buttons),
        *heading,
        *(s.title for s in reply.sections),
        *(line.when for line in reply.tasks if line.when),
    ]


def _rebuilt(reply: Reply, said: Mapping[str, str], labels: Labels) -> Reply:
    """``reply`` with its ``_parts`` as ``said`` them and its lines' states in ``labels``."""

    def say(text: str) -> str:
        return said.get(text, text)

    def line_in(line: TaskLine) -> TaskLine:
        status, priority = labels(line.status), labels(line.priority)
        return replace(line, when=say(line.when), status=status, priority=priority)

    fields = dict(reply.fields)
    if "heading" in fields:
        fields["heading"] = say(fields["heading"])
    return replace(
        reply,
        text=say(reply.text),
        buttons=tuple(replace(b, label=say(b.label)) for b in reply.buttons),
        fields=fields,
        sections=tuple(replace(s, title=say(s.title)) for s in reply.sections),
        tasks=tuple(line_in(line) for line in reply.tasks),
        labels=labels,
    )
