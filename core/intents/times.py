"""The one-off time grammar: finds date and time phrases and fills a ``When``.

``scan_when`` walks the tokens left to right; at each unused token it tries the
phrase matchers (optionally after a preposition such as "at", "on", "by", "due")
and marks what a matcher read as used. Recurrence words are read before this by
``core.intents.recurrence``, which also reuses ``match_piece`` for "until <date>".
"""

from __future__ import annotations

from core.intents.dates import (
    add_duration,
    match_calendar,
    match_day_word,
    match_end_of,
    match_relative,
    match_start_of,
)
from core.intents.hours import match_clock
from core.intents.tokens import Token
from core.intents.when import When
from core.intents.words import norm_at

_PREPS = frozenset(
    {"at", "@", "on", "by", "due", "before", "around", "for", "from", "this", "until"}
)
_DEADLINE_PREPS = frozenset({"by", "due", "before"})


def scan_when(toks: list[Token], *, start: int = 0, stop: int | None = None) -> When:
    """Read every date/time phrase in ``toks[start:stop]`` into one ``When``."""
    when = When()
    stop = len(toks) if stop is None else stop
    i = start
    while i < stop:
        if toks[i].used:
            i += 1
            continue
        end = match_piece(toks, i, when)
        if end is None:
            i += 1
            continue
        for tok in toks[i:end]:
            tok.used = True
        when.pieces += 1
        i = end
    return when


def match_piece(toks: list[Token], i: int, when: When) -> int | None:
    """Match one phrase at ``i`` (with an optional leading preposition); return its end."""
    word = norm_at(toks, i)
    if word in _PREPS:
        inner = i + 1
        if word in _DEADLINE_PREPS and norm_at(toks, inner) in ("on", "at", "around", "@"):
            word, inner = norm_at(toks, inner), inner + 1  # "due on Friday", "by at 5"
            when.deadline = True
            when.deadline_words.append(i)
        if norm_at(toks, inner) == "the" and norm_at(toks, inner + 1) == "end":
            inner += 1
        end = _match_bare(toks, inner, when, prep=word)
        if end is not None:
            if word in _DEADLINE_PREPS:
                when.deadline = True
                when.deadline_words.append(i)
            return end
        return None
    if word == "the" and norm_at(toks, i + 1) == "end" and norm_at(toks, i + 2) == "of":
        return match_end_of(toks, i + 1, when)
    if word == "the" and norm_at(toks, i + 1) in ("start", "beginning"):
        return match_start_of(toks, i + 1, when)
    return _match_bare(toks, i, when, prep="")


def _start_of(toks: list[Token], i: int, when: When, prep: str) -> int | None:
    return match_start_of(toks, i, when)


def _match_bare(toks: list[Token], i: int, when: When, *, prep: str) -> int | None:
    for matcher in (match_clock, match_relative, match_day_word, match_calendar, _start_of):
        end = matcher(toks, i, when, prep)
        if end is not None:
            return end
    return None


__all__ = ["add_duration", "match_piece", "scan_when"]
