"""The tokeniser: text → tokens that remember their original spelling and position.

The grammar reads ``Token.norm`` (lowercase, casual spellings expanded) and marks
the tokens it understood as ``used``; what is left over becomes the title or the
task reference, rebuilt from the original text so that case and punctuation
survive ("renew the SSL certificate").

Every pattern here is linear: no nested quantifiers, bounded quoted spans, so a
100 KB message cannot make the regex engine backtrack catastrophically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.intents.lexicon import ALIASES

#: Mentions that address the bot itself rather than name a person.
BOT_NAMES = frozenset({"kairos", "kairosbot", "kairos-bot"})

#: Longest message the parser reads; chat messages are far shorter, and a cap keeps
#: the worst case bounded.
MAX_CHARS = 4000


class Kind(StrEnum):
    """What a token is."""

    WORD = "word"
    NUM = "num"  # 42, 1.5
    ORD = "ord"  # 3rd, 21st
    CLOCK = "clock"  # 17:30, 9:05:00
    DATE = "date"  # 2026-12-03
    CODE = "code"  # `backup.sh`
    QUOTE = "quote"  # 'deploy v2'
    URL = "url"
    PATH = "path"  # /srv/drop, scripts/backup.sh, Europe/Paris
    USER = "user"  # @bob, @U024BE7LH (the neutral mention form, core.mentions)
    CHANNEL = "channel"  # #eng, #C0123ABC
    REF = "ref"  # #42
    PUNCT = "punct"


@dataclass(slots=True)
class Token:
    """One token; ``value`` is the payload (number, channel name, code…)."""

    text: str
    norm: str
    kind: Kind
    start: int
    end: int
    value: str = ""
    used: bool = False

    @property
    def num(self) -> float | None:
        """The numeric value of a NUM/ORD token, else ``None``."""
        if self.kind in (Kind.NUM, Kind.ORD):
            try:
                return float(self.value)
            except ValueError:
                return None
        return None


_TOKEN = re.compile(
    r"""
    (?P<code>`{1,3}[^`]{1,2000}`{1,3})
  | (?P<url>https?://[^\s<>`]{1,2000})
  | (?P<quote>(?<![\w])'[^'\n]{1,300}'(?![\w])|"[^"\n]{1,300}"|“[^”\n]{1,300}”|‘[^’\n]{1,300}’)
  | (?P<placeholder>\{[A-Za-z_][\w.\-]{0,100}\})
  | (?P<user>@[\w][\w.\-]{0,80})
  | (?P<ref>\#\d{1,12}\b)
  | (?P<chan>\#[\w][\w\-]{0,80})
  | (?P<date>\d{4}-\d{2}-\d{2}(?!\d))
  | (?P<clock>\d{1,2}:\d{2}(?::\d{2})?(?!\d))
  | (?P<ord>\d{1,4}(?:st|nd|rd|th)\b)
  | (?P<path>(?:~|\.{1,2})?/[\w.\-]{1,200}(?:/[\w.\-]{1,200}){0,30}/?)
  | (?P<relpath>[\w\-]{1,200}(?:/[\w.\-]{1,200}){1,30}/?)
  | (?P<file>[\w\-]{1,200}\.(?:sh|py|js|mjs|ts|rb|pl|bash|zsh|ps1|sql|php|go|jar|R|exe|bat|cmd)\b)
  | (?P<num>\d{1,12}(?:\.\d{1,6})?)
  | (?P<prio>(?<![\w])[pP][0-4](?![\w]))
  | (?P<word>[^\W\d_]{1,100}(?:['’\-][^\W\d_]{1,100}){0,5})
  | (?P<punct>\S)
    """,
    re.VERBOSE,
)
_SIMPLE = re.compile(r"\d{1,12}|[^\W\d_]{1,100}|\S")
_PRE = (
    (re.compile(r"\b([ap])\.\s?m\b\.?", re.IGNORECASE), r"\1m"),
    (re.compile(r"\b2mor+o+w*\b|\b2mrw\b", re.IGNORECASE), "tomorrow"),
    (re.compile(r"\b2nite\b", re.IGNORECASE), "tonight"),
    (re.compile(r"\b2day\b", re.IGNORECASE), "today"),
    (re.compile(r"\bevery ?day\b", re.IGNORECASE), "every day"),
    # :emoji: codes as people type them (platform mention syntax is translated at the
    # edge into the neutral form of core.mentions before it gets here)
    (re.compile(r"(?<![\w:/]):[a-z0-9_+\-]{1,40}:(?![\w/])"), " "),
    # "mon-fri" would be one hyphenated word; the weekday grammar wants three tokens.
    (
        re.compile(
            r"\b(mon|tue|wed|thu|fri|sat|sun)([a-z]{0,6})-(mon|tue|wed|thu|fri|sat|sun)",
            re.IGNORECASE,
        ),
        r"\1\2 - \3",
    ),
)


def normalise_text(text: str) -> str:
    """Fold the few spellings that the tokeniser would otherwise split apart."""
    text = text[:MAX_CHARS]
    for pattern, repl in _PRE:
        text = pattern.sub(repl, text)
    return text


def _path_is_real(text: str) -> bool:
    # "and/or" or "mon/thu" are words joined by a slash; paths and zones look different.
    return text[0] in "/~." or "." in text or "_" in text or (text[0].isupper() and "/" in text)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` (already normalised) into tokens."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        group = match.lastgroup or "punct"
        raw = match.group()
        start, end = match.span()
        if group == "relpath" and not _path_is_real(raw):
            for sub in _SIMPLE.finditer(raw):
                tokens.append(_plain(sub.group(), start + sub.start(), start + sub.end()))
            continue
        if group == "url":
            # Sentence punctuation after a link is not part of it.
            stripped = raw.rstrip(".,;:!?)'\"")
            end = start + len(stripped)
            tokens.append(Token(stripped, stripped, Kind.URL, start, end, stripped))
            for sub in _SIMPLE.finditer(raw[len(stripped) :]):
                tokens.append(_plain(sub.group(), end + sub.start(), end + sub.end()))
            continue
        tokens.append(_make(group, raw, start, end))
    return tokens


def _plain(raw: str, start: int, end: int) -> Token:
    if raw.isdigit():
        return Token(raw, raw, Kind.NUM, start, end, raw)
    if raw[0].isalpha():
        return _word(raw, start, end)
    return Token(raw, raw, Kind.PUNCT, start, end)


def _word(raw: str, start: int, end: int) -> Token:
    low = raw.lower().replace("’", "'")
    norm = ALIASES.get(low)
    if norm is None:
        typo = 5 <= len(low) <= 9 and low[0] in "rt" and low not in _REAL_WORDS
        norm = _typo_of(low) if typo else low
    return Token(raw, norm, Kind.WORD, start, end)


#: Words whose misspellings change the meaning of a whole message if missed.
_KEY_WORDS = ("remind", "reminder", "tomorrow", "tonight")
_REAL_WORDS = frozenset({"rewind", "remand", "rebind", "reminds", "rewinder", "romania"})


def _typo_of(word: str) -> str:
    """``word``, or the key word it misspells by one letter or two swapped letters."""
    for key in _KEY_WORDS:
        if word != key and abs(len(word) - len(key)) <= 1 and _one_edit(word, key):
            return key
    return word


def _one_edit(a: str, b: str) -> bool:
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    k = 0
    while k < len(short) and short[k] == long_[k]:
        k += 1
    return short[k:] == long_[k + 1 :]


def _make(group: str, raw: str, start: int, end: int) -> Token:
    low = raw.lower()
    if group == "code":
        return Token(raw, low, Kind.CODE, start, end, raw.strip("`").strip())
    if group == "quote":
        return Token(raw, low, Kind.QUOTE, start, end, raw[1:-1].strip())
    if group == "user":
        value = raw[1:]
        if value.lower() in BOT_NAMES:  # "@kairos remind me…" addresses the bot
            return Token(raw, "kairos", Kind.WORD, start, end)
        return Token(raw, low, Kind.USER, start, end, value.rstrip(".-"))
    if group == "chan":
        return Token(raw, low, Kind.CHANNEL, start, end, raw[1:])
    if group == "ref":
        return Token(raw, low, Kind.REF, start, end, raw[1:])
    if group == "date":
        return Token(raw, low, Kind.DATE, start, end, raw)
    if group == "clock":
        return Token(raw, low, Kind.CLOCK, start, end, raw)
    if group == "ord":
        return Token(raw, low, Kind.ORD, start, end, raw[:-2])
    if group in ("path", "relpath", "file"):
        return Token(raw, low, Kind.PATH, start, end, raw)
    if group == "num":
        return Token(raw, low, Kind.NUM, start, end, raw)
    if group in ("word", "prio"):
        return _word(raw, start, end)
    if group == "placeholder":  # {event.ref} in a message template: one word, kept whole
        return Token(raw, low, Kind.WORD, start, end)
    return Token(raw, raw, Kind.PUNCT, start, end)
