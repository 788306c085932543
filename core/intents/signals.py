"""Small judgements about a whole message, used by ``RuleParser``.

Whether a reply is nothing but a time ("10 more minutes"), whether a time can
schedule something, a "by two days" shift, and how confident the parse is.
"""

from __future__ import annotations

from core.intents.dates import add_duration
from core.intents.model import Intent, IntentKind
from core.intents.tokens import Kind, Token
from core.intents.when import DateKind, When
from core.intents.words import norm_at, read_duration, read_number, read_unit

#: Words that may pad a bare time or duration sent as a reply ("10 more minutes please").
_TIME_FILLER = frozenset(
    {
        "more",
        "please",
        "pls",
        "again",
        "later",
        "ok",
        "okay",
        "in",
        "another",
        "then",
        "actually",
        "maybe",
        "try",
        "extra",
        "mins",
        "and",
        "remind",
        "me",
        "hmm",
        "umm",
        "eh",
        "snooze",
        "for",
        "until",
        "till",
        "give",
        "one",
    }
)


def take_shift(toks: list[Token]) -> None:
    """Consume "by two days" in "delay it by two days" (a shift of an unknown date)."""
    for i, tok in enumerate(toks):
        if tok.norm in ("by", "back") and not tok.used:
            duration = read_duration(toks, i + 1)
            if duration is not None:
                for used in toks[i : duration[2]]:
                    used.used = True
                return


def schedulable(when: When) -> bool:
    """A time that can schedule something ("today" alone only qualifies a question)."""
    if when.empty:
        return False
    date = when.date
    bare_today = date is not None and date.kind is DateKind.OFFSET and date.value == 0
    return not (
        bare_today and when.time is None and when.part_of_day is None and not when.has_delta
    )


def bare_time_reply(toks: list[Token], when: When) -> bool:
    """A reply that is just a time or duration ("tomorrow at 9", "10 more minutes")."""
    words = [t for t in toks if t.kind is not Kind.PUNCT]
    if not words or any(
        t.kind is not Kind.WORD and not t.used and t.kind is not Kind.NUM for t in words
    ):
        return False
    if when.empty:
        for i, tok in enumerate(toks):
            number = None if tok.used else read_number(toks, i)
            if number is None:
                continue
            if any(t.norm not in _TIME_FILLER for t in toks[:i]):
                break  # only a leading duration is a reply ("10 more minutes")
            j = number[1]
            while norm_at(toks, j) in ("more", "extra"):
                j += 1
            unit = read_unit(toks, j)
            if unit is None:
                continue
            add_duration(
                when,
                (
                    "d" if unit[0] == "s" and unit[1] >= 86400 else unit[0],
                    number[0] * unit[1],
                    unit[2],
                ),
            )
            when.pieces += 1
            for used in toks[i : unit[2]]:
                used.used = True
            break
    return not when.empty and all(t.used or t.norm in _TIME_FILLER for t in words)


def score(result: Intent, toks: list[Token]) -> None:
    """Settle ``result.confidence``: lower for missing parts, doubts and unread words."""
    needs_title = result.intent in (IntentKind.CREATE_REMINDER, IntentKind.CREATE_TASK)
    if needs_title and not result.title:
        result.confidence = min(result.confidence, 0.5)
    if result.intent is IntentKind.CREATE_REMINDER and result.schedule is None:
        result.confidence = min(result.confidence, 0.5)
        result.clarification = result.clarification or "When should I remind you?"
    if result.clarification:
        result.confidence = min(result.confidence, 0.6)
    words = [t for t in toks if t.kind is Kind.WORD]
    if words:
        unread = sum(1 for t in words if not t.used) / len(words)
        if result.intent in (
            IntentKind.UNKNOWN,
            IntentKind.HELP,
            IntentKind.LIST_TASKS,
            IntentKind.REPORT,
        ):
            unread = 0.0
        result.confidence = round(max(0.05, result.confidence - 0.1 * unread), 2)
