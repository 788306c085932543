"""Small readers shared by the grammar modules: numbers, ordinals, weekdays, units.

Each reader looks at the token list from position ``i`` and returns what it read
plus the position after it, or ``None``; none of them marks tokens as used.
"""

from __future__ import annotations

from core.intents.lexicon import (
    MONTH_UNITS,
    MONTHS,
    NUMBER_WORDS,
    ORDINAL_WORDS,
    UNIT_SECONDS,
    WEEKDAYS,
    WEEKDAYS_CONTEXTUAL,
    YEAR_UNITS,
)
from core.intents.tokens import Kind, Token

#: Words after which a short weekday form ("sat", "wed") surely means the day.
DAY_CONTEXT = frozenset(
    {"on", "every", "each", "next", "this", "by", "due", "until", "and", "or", "before", "from"}
)


def norm_at(toks: list[Token], i: int) -> str:
    """The normalised word at ``i``, or ``""`` past the end or on an already used token."""
    if 0 <= i < len(toks) and not toks[i].used:
        return toks[i].norm
    return ""


def read_number(toks: list[Token], i: int) -> tuple[float, int] | None:
    """A count: ``3``, ``1.5``, ``three``, ``twenty-five``, ``a``, ``a couple of``, ``half an``."""
    word = norm_at(toks, i)
    if not word:
        return None
    tok = toks[i]
    if tok.kind is Kind.NUM and tok.num is not None:
        return tok.num, i + 1
    if word == "half" and norm_at(toks, i + 1) in ("a", "an"):
        return 0.5, i + 2
    if word in ("a", "an") and norm_at(toks, i + 1) in ("couple", "few"):
        value = NUMBER_WORDS[norm_at(toks, i + 1)]
        nxt = i + 3 if norm_at(toks, i + 2) == "of" else i + 2
        return float(value), nxt
    if "-" in word:
        head, _, tail = word.partition("-")
        if head in NUMBER_WORDS and tail in NUMBER_WORDS and NUMBER_WORDS[head] >= 20:
            return float(NUMBER_WORDS[head] + NUMBER_WORDS[tail]), i + 1
    if word in NUMBER_WORDS:
        value = NUMBER_WORDS[word]
        nxt_word = norm_at(toks, i + 1)
        if value >= 20 and nxt_word in NUMBER_WORDS and 0 < NUMBER_WORDS[nxt_word] < 10:
            return float(value + NUMBER_WORDS[nxt_word]), i + 2
        return float(value), i + 1
    return None


def read_unit(toks: list[Token], i: int) -> tuple[str, int, int] | None:
    """A time unit → (``"s"``|``"mo"``|``"y"``, seconds or 1, next index)."""
    word = norm_at(toks, i)
    if word in UNIT_SECONDS:
        return "s", UNIT_SECONDS[word], i + 1
    if word in MONTH_UNITS:
        return "mo", 1, i + 1
    if word in YEAR_UNITS:
        return "y", 1, i + 1
    return None


def read_duration(toks: list[Token], i: int) -> tuple[str, float, int] | None:
    """``2 hours``, ``an hour and a half``, ``1h30``, ``90 mins`` → (unit kind, amount, next).

    The amount is in seconds for unit kinds ``"s"`` (seconds to hours) and ``"d"``
    (days and weeks, which keep the wall-clock time), else in months or years.
    """
    number = read_number(toks, i)
    if number is None:
        return None
    value, j = number
    unit = read_unit(toks, j)
    if unit is None:
        return None
    kind, size, j = unit
    amount = value * size
    if kind == "s" and size >= 86400:
        return "d", amount, j
    if kind == "s":
        # "an hour and a half", "1h30", "2 hours 15 minutes"
        if (
            norm_at(toks, j) == "and"
            and norm_at(toks, j + 1) in ("a", "an")
            and (norm_at(toks, j + 2) == "half")
        ):
            return kind, amount + size / 2, j + 3
        extra = read_number(toks, j)
        if extra is not None and extra[0] < 60 and toks[extra[1] - 1].kind is Kind.NUM:
            more = read_unit(toks, extra[1])
            if more is not None and more[0] == "s" and more[1] < size:
                return kind, amount + extra[0] * more[1], more[2]
            if more is None and size == 3600:
                return kind, amount + extra[0] * 60, extra[1]
    return kind, amount, j


def read_ordinal(toks: list[Token], i: int) -> tuple[int, int] | None:
    """``3rd``, ``third``, ``last``, ``21st`` → (n, next); ``last`` is -1."""
    word = norm_at(toks, i)
    if not word:
        return None
    tok = toks[i]
    if tok.kind is Kind.ORD and tok.num is not None:
        return int(tok.num), i + 1
    if word in ORDINAL_WORDS:
        return ORDINAL_WORDS[word], i + 1
    if "-" in word:
        head, _, tail = word.partition("-")
        if head in ("twenty", "thirty") and tail in ORDINAL_WORDS and ORDINAL_WORDS[tail] > 0:
            return NUMBER_WORDS[head] + ORDINAL_WORDS[tail], i + 1
    if word in ("twenty", "thirty") and norm_at(toks, i + 1) in ORDINAL_WORDS:
        tail_value = ORDINAL_WORDS[norm_at(toks, i + 1)]
        if 0 < tail_value < 10:
            return NUMBER_WORDS[word] + tail_value, i + 2
    return None


def weekday_of(word: str, *, context: bool) -> int | None:
    """0–6 for a weekday name or its plural ("mondays"); short forms need ``context``."""
    if word in WEEKDAYS:
        return WEEKDAYS[word]
    if word.endswith("s") and word[:-1] in WEEKDAYS and len(word) > 5:
        return WEEKDAYS[word[:-1]]
    if context and word in WEEKDAYS_CONTEXTUAL:
        return WEEKDAYS_CONTEXTUAL[word]
    return None


def is_plural_day(word: str) -> bool:
    """ "mondays", "fridays" (every such day) — not the short forms "tues", "thurs", "weds"."""
    return word.endswith("s") and word not in WEEKDAYS and word not in WEEKDAYS_CONTEXTUAL


def read_weekday(toks: list[Token], i: int) -> tuple[int, int] | None:
    """A weekday name at ``i``; short forms only after a calendar word."""
    word = norm_at(toks, i)
    if not word:
        return None
    context = i > 0 and toks[i - 1].norm in DAY_CONTEXT
    day = weekday_of(word, context=context or word.endswith("s"))
    return (day, i + 1) if day is not None else None


def read_weekday_list(toks: list[Token], i: int) -> tuple[list[int], int] | None:
    """``Monday``, ``Monday and Thursday``, ``mon, wed & fri`` → (days, next)."""
    first = read_weekday(toks, i)
    if first is None:
        return None
    days, j = [first[0]], first[1]
    while True:
        k = j
        is_range = norm_at(toks, k) in ("-", "to", "until", "–")
        while norm_at(toks, k) in (",", "and", "&", "/", "or", "+", "-", "to", "until", "–"):
            k += 1
        if k == j:
            break
        word = norm_at(toks, k)
        day = weekday_of(word, context=True) if word else None
        if day is None:
            break
        if is_range:  # "Monday to Friday", "mon-fri"
            span = range(days[-1] + 1, day + 1) if day > days[-1] else range(0)
            days.extend(d for d in span if d not in days)
        elif day not in days:
            days.append(day)
        j = k + 1
    return days, j


def month_of(toks: list[Token], i: int) -> int | None:
    """1–12 for a month name at ``i`` (callers check a day number is next to it)."""
    return MONTHS.get(norm_at(toks, i))
