"""Dates in a message: "tomorrow", "next Friday", "in 3 days", "Dec 3", "end of month".

Each matcher reads one phrase at ``i`` into a ``When`` (symbolically: the
calendar is applied later by ``core.intents.resolve``) and returns where it ends.
"""

from __future__ import annotations

from core.intents.lexicon import MONTHS
from core.intents.tokens import Kind, Token
from core.intents.when import DateKind, DatePart, When
from core.intents.words import (
    is_plural_day,
    norm_at,
    read_duration,
    read_ordinal,
    read_weekday,
)

#: "in a bit", "in a while": half an hour (a stated default, see docs).
A_BIT_SECONDS = 30 * 60
DAY_PARTS = frozenset({"morning", "afternoon", "evening", "night"})
_AFTER_ORD_OK = frozenset(
    {
        "",
        ",",
        ".",
        "!",
        "?",
        "at",
        "to",
        "and",
        "about",
        "that",
        "for",
        "in",
        "by",
        "from",
        "of",
        "please",
        "-",
        ":",
        ";",
        "so",
        "with",
    }
)


def set_date(when: When, part: DatePart) -> None:
    """Record a date; the first one named wins, later ones are kept aside."""
    if when.date is None:
        when.date = part
    else:
        when.extra_dates.append(part)


def match_relative(toks: list[Token], i: int, when: When, prep: str) -> int | None:
    """ "in 2 hours", "3 days from now", "a week later" → an offset from now."""
    word = norm_at(toks, i)
    if (word == "in" or prep == "for") and _a_bit(toks, i + (1 if word == "in" else 0)):
        # "in a bit", "(snooze) for a while": a stated default of half an hour
        when.has_delta = True
        when.delta_seconds += A_BIT_SECONDS
        return i + (3 if word == "in" else 2)
    if word == "in" or word == "within":
        duration = read_duration(toks, i + 1)
        if duration is None:
            return None
        add_duration(when, duration)
        end = duration[2] + (1 if norm_at(toks, duration[2]) == "'" else 0)
        return end + 1 if norm_at(toks, end) == "time" else duration[2]  # "in 2 weeks' time"
    duration = read_duration(toks, i)
    if duration is None or prep not in ("", "by", "due", "on", "until"):
        return None
    end = duration[2]
    follower, anchor = norm_at(toks, end), norm_at(toks, end + 1)
    if follower == "from" and anchor in ("now", "today"):
        if prep:
            return None
        add_duration(when, duration)
        return end + 2
    if follower in ("from", "after", "before") and duration[0] in ("d", "mo"):
        # "a week from Friday", "3 days after tomorrow", "a month from tomorrow"
        sign = -1 if follower == "before" else 1
        if duration[0] == "mo":
            return shifted(toks, end + 1, when, 0, months=sign * int(duration[1]))
        return shifted(toks, end + 1, when, sign * round(duration[1] / 86400))
    if follower in ("later", "hence") and not prep:
        add_duration(when, duration)
        return end + 1
    return None


def _a_bit(toks: list[Token], i: int) -> bool:
    return norm_at(toks, i) == "a" and norm_at(toks, i + 1) in ("bit", "while", "moment")


def shifted(toks: list[Token], j: int, when: When, days: int, *, months: int = 0) -> int | None:
    """A date phrase at ``j`` moved by ``days``: the composed dates ("a week from Friday")."""
    inner = When()
    end = match_day_word(toks, j, inner, "")
    if end is None:
        end = match_calendar(toks, j, inner, "")
    if end is None or inner.date is None or inner.extra_dates:
        return None
    inner.date.shift += days
    inner.date.shift_months += months
    set_date(when, inner.date)
    if inner.part_of_day:
        when.part_of_day = inner.part_of_day
    return end


def add_duration(when: When, duration: tuple[str, float, int]) -> None:
    """Add a ``read_duration`` result to the offset of ``when``."""
    kind, amount, _ = duration
    when.has_delta = True
    if kind == "s":
        when.delta_seconds += amount
    elif kind == "d":
        when.delta_days += amount / 86400
    elif kind == "mo":
        when.delta_months += int(amount)
    else:
        when.delta_months += int(amount) * 12


def match_day_word(toks: list[Token], i: int, when: When, prep: str) -> int | None:
    """ "today", "tomorrow", "(next) Friday", "next week/month", "the weekend", "this time …"."""
    word = norm_at(toks, i)
    if word == "later" and norm_at(toks, i + 1) in ("today", "on"):
        # "later today", "later on": resolved from now (core.intents.resolve.later_today)
        set_date(when, DatePart(DateKind.OFFSET, 0))
        when.part_of_day = "later"
        return i + 2
    if word in ("today", "tomorrow"):
        set_date(when, DatePart(DateKind.OFFSET, 0 if word == "today" else 1))
        return i + 1
    if word in ("the", "day") and norm_at(toks, i + (1 if word == "the" else 0)) == "day":
        k = i + (2 if word == "the" else 1)
        if norm_at(toks, k) == "after" and norm_at(toks, k + 1) == "tomorrow":
            set_date(when, DatePart(DateKind.OFFSET, 2))
            return k + 2
        if norm_at(toks, k) in ("after", "before"):  # "the day after Dec 10"
            return shifted(toks, k + 1, when, 1 if toks[k].norm == "after" else -1)
        return None
    if (word == "time" and prep == "this") or (word == "same" and norm_at(toks, i + 1) == "time"):
        # "this time tomorrow", "same time next week": the wall clock of now, days ahead
        k = i + 1 if word == "time" else i + 2
        days = 1 if norm_at(toks, k) == "tomorrow" else 0
        if norm_at(toks, k) == "next" and norm_at(toks, k + 1) == "week":
            days, k = 7, k + 1
        if days:
            when.has_delta = True
            when.delta_days += days
            return k + 1
        return None
    if word == "overmorrow":
        set_date(when, DatePart(DateKind.OFFSET, 2))
        return i + 1
    mode = ""
    j = i
    if word in ("next", "coming"):
        mode, j = "next" if word == "next" else "near", i + 1
    elif prep == "this" or word == "this":
        mode, j = "near", i + (1 if word == "this" else 0)
        if norm_at(toks, j) == "coming":
            j += 1
    elif word == "the" and norm_at(toks, i + 1) == "weekend":
        set_date(when, DatePart(DateKind.WEEKEND))
        return i + 2
    elif word == "the" and _after_next(toks, i + 2) and read_weekday(toks, i + 1) is not None:
        j = i + 1  # "the Friday after next"
    target = norm_at(toks, j)
    if mode == "near" and target in DAY_PARTS:
        set_date(when, DatePart(DateKind.OFFSET, 0))
        when.part_of_day = target
        return j + 1
    if mode == "next" and target in ("week", "month", "year", "weekend"):
        kinds = {
            "week": DateKind.NEXT_WEEK,
            "month": DateKind.NEXT_MONTH,
            "year": DateKind.NEXT_YEAR,
        }
        if target == "weekend":
            set_date(when, DatePart(DateKind.WEEKEND, 7))
        else:
            set_date(when, DatePart(kinds[target]))
        return j + 1
    if target == "weekend" and (mode == "near" or prep in ("on", "at", "by", "over")):
        set_date(when, DatePart(DateKind.WEEKEND))
        return j + 1
    weekday = read_weekday(toks, j)
    if weekday is None or (is_plural_day(toks[j].norm) and not mode):
        return None
    day, end = weekday
    if _after_next(toks, end):
        # "the Friday after next": the Friday after "next Friday" (PARSING.md's meaning)
        set_date(when, DatePart(DateKind.NEXT_WEEKDAY, day, shift=7))
        return end + 2
    if norm_at(toks, end) == "next" and norm_at(toks, end + 1) == "week":
        mode, end = "next", end + 2
    elif norm_at(toks, end) == "this" and norm_at(toks, end + 1) == "week":
        end += 2
    kind = DateKind.NEXT_WEEKDAY if mode == "next" else DateKind.WEEKDAY
    if norm_at(toks, end) == "week" and norm_at(toks, end + 1) in _AFTER_ORD_OK:
        set_date(when, DatePart(kind, day, shift=7))  # "Friday week": a week after Friday
        return end + 1
    set_date(when, DatePart(kind, day))
    return end


def _after_next(toks: list[Token], i: int) -> bool:
    return norm_at(toks, i) == "after" and norm_at(toks, i + 1) == "next"


def match_end_of(toks: list[Token], i: int, when: When) -> int | None:
    """ "end of (the) day/week/month/year", "end of next week/month"."""
    j = i + 2
    if norm_at(toks, j) in ("the", "this"):
        j += 1
    ahead = 0
    if norm_at(toks, j) == "next":
        ahead, j = 1, j + 1
    target = norm_at(toks, j)
    if target in ("day", "business", "today") and not ahead:
        when.part_of_day = "eod"
        return j + 1
    parts = {
        "week": DateKind.END_OF_WEEK,
        "month": DateKind.END_OF_MONTH,
        "year": DateKind.END_OF_YEAR,
    }
    if target in MONTHS and not ahead:  # "the end of January": its last day
        set_date(when, DatePart(DateKind.END_OF_MONTH, month=MONTHS[target]))
        return j + 1
    if target in parts:
        set_date(when, DatePart(parts[target], value=ahead))
        return j + 1
    return None


def match_start_of(toks: list[Token], i: int, when: When) -> int | None:
    """ "start/beginning of next week/month" → its first day; "first thing" → morning."""
    word = norm_at(toks, i)
    if word == "first" and norm_at(toks, i + 1) == "thing":
        when.part_of_day = "morning"
        return i + 2
    if word not in ("start", "beginning") or norm_at(toks, i + 1) != "of":
        return None
    j = i + 2
    if norm_at(toks, j) == "the":
        j += 1
    if norm_at(toks, j) != "next" or norm_at(toks, j + 1) not in ("week", "month", "year"):
        return None
    kinds = {"week": DateKind.NEXT_WEEK, "month": DateKind.NEXT_MONTH, "year": DateKind.NEXT_YEAR}
    set_date(when, DatePart(kinds[norm_at(toks, j + 1)]))
    return j + 2


def match_calendar(toks: list[Token], i: int, when: When, prep: str) -> int | None:
    """ "Dec 3", "3 December", "the 5th of March", "2026-12-03", "the 15th", "EOW", "3/12"."""
    word = norm_at(toks, i)
    if not word:
        return None
    tok = toks[i]
    if word in ("eow", "eom"):
        kind = DateKind.END_OF_WEEK if word == "eow" else DateKind.END_OF_MONTH
        set_date(when, DatePart(kind))
        return i + 1
    if tok.kind is Kind.DATE:  # ISO, or a numeric date folded by core.intents.numeric_dates
        year, month, mday = (int(x) for x in tok.value.split("-"))
        set_date(when, DatePart(DateKind.CALENDAR, month=month, day=mday, year=year))
        return i + 1
    if word in MONTHS:
        after = _day_number(toks, i + 2 if norm_at(toks, i + 1) == "." else i + 1)
        if after is None:
            return None
        return _year_suffix(toks, after[1], when, MONTHS[word], after[0])
    j = i + 1 if word == "the" else i
    day = _day_number(toks, j)
    if day is None:
        return None
    k = day[1] + 1 if norm_at(toks, day[1]) == "of" else day[1]
    if norm_at(toks, k) in MONTHS:
        return _year_suffix(toks, k + 1, when, MONTHS[norm_at(toks, k)], day[0])
    if k > day[1] and norm_at(toks, k) in ("next", "this") and norm_at(toks, k + 1) == "month":
        # "the 3rd of next month", "the 20th of this month"
        kind = DateKind.NEXT_MONTH if norm_at(toks, k) == "next" else DateKind.MONTHDAY
        set_date(when, DatePart(kind, day=day[0]))
        return k + 2
    if tok.kind is Kind.NUM and norm_at(toks, i + 1) == "/":
        return _match_slash(toks, i, when)
    if word == "the" and toks[j].kind is not Kind.NUM and norm_at(toks, k) in _AFTER_ORD_OK:
        if norm_at(toks, k) == "of":
            return None  # "the 2nd of the month" is recurrence, read elsewhere
        set_date(when, DatePart(DateKind.MONTHDAY, day=day[0]))
        return k
    return None


def _day_number(toks: list[Token], i: int) -> tuple[int, int] | None:
    tok = toks[i] if 0 <= i < len(toks) else None
    if tok is None or tok.used:
        return None
    if tok.kind is Kind.NUM and tok.value.isdigit() and 1 <= int(tok.value) <= 31:
        return int(tok.value), i + 1
    ordinal = read_ordinal(toks, i)
    if ordinal is not None and 1 <= ordinal[0] <= 31:
        return ordinal
    return None


def _year_suffix(toks: list[Token], j: int, when: When, month: int, day: int) -> int:
    k = j + 1 if norm_at(toks, j) == "," else j
    year = 0
    tok = toks[k] if k < len(toks) else None
    if tok is not None and not tok.used and tok.kind is Kind.NUM and len(tok.value) == 4:
        year, j = int(tok.value), k + 1
    set_date(when, DatePart(DateKind.CALENDAR, month=month, day=day, year=year))
    return j


def _match_slash(toks: list[Token], i: int, when: When) -> int | None:
    # 3/12 is December 3rd in Europe and March 12th in the US: only unambiguous forms
    # are read; the rest asks back.
    first = toks[i].value
    second_tok = toks[i + 2] if i + 2 < len(toks) else None
    if second_tok is None or second_tok.kind is not Kind.NUM or not second_tok.value.isdigit():
        return None
    a, b = int(first) if first.isdigit() else 0, int(second_tok.value)
    if not (1 <= a <= 31 and 1 <= b <= 31) or (a > 12 and b > 12):
        return None
    if a <= 12 and b <= 12 and a != b:
        when.clarification = (
            f"Is {a}/{b} the {a} of month {b} or month {a}, day {b}? Please write the month name."
        )
        return i + 3
    month, day = (a, b) if a <= 12 else (b, a)
    set_date(when, DatePart(DateKind.CALENDAR, month=month, day=day))
    return i + 3
