"""The one-off time grammar: finds date and time phrases and fills a ``When``.

``scan_when`` walks the tokens left to right; at each unused token it tries the
phrase matchers (optionally after a preposition such as "at", "on", "by", "due")
and marks what a matcher read as used. Recurrence words are read before this by
``core.intents.recurrence``, which also reuses ``match_piece`` for "until <date>".
"""

from __future__ import annotations

from core.intents.lexicon import CITY_ZONES, MONTHS, PARTS_OF_DAY, ZONES
from core.intents.tokens import Kind, Token
from core.intents.when import DateKind, DatePart, TimeOfDay, When
from core.intents.words import norm_at, read_duration, read_number, read_ordinal, read_weekday

_PREPS = frozenset({"at", "@", "on", "by", "due", "before", "around", "for", "from", "this",
                    "until"})
_DEADLINE_PREPS = frozenset({"by", "due", "before"})
_DAY_PARTS = frozenset({"morning", "afternoon", "evening", "night"})
_AFTER_ORD_OK = frozenset(
    {"", ",", ".", "!", "?", "at", "to", "and", "about", "that", "for", "in", "by", "from",
     "of", "please", "-", ":", ";", "so", "with"}
)


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
        if norm_at(toks, inner) == "the" and norm_at(toks, inner + 1) == "end":
            inner += 1
        end = _match_bare(toks, inner, when, prep=word)
        if end is not None:
            if word in _DEADLINE_PREPS:
                when.deadline = True
            return end
        return None
    if word == "the" and norm_at(toks, i + 1) == "end" and norm_at(toks, i + 2) == "of":
        return _match_end_of(toks, i + 1, when)
    return _match_bare(toks, i, when, prep="")


def _match_bare(toks: list[Token], i: int, when: When, *, prep: str) -> int | None:
    for matcher in (_match_clock, _match_relative, _match_day_word, _match_calendar):
        end = matcher(toks, i, when, prep)
        if end is not None:
            return end
    return None


def _set_date(when: When, part: DatePart) -> None:
    if when.date is None:
        when.date = part
    else:
        when.extra_dates.append(part)


# --- times of day ------------------------------------------------------------------


def _bare_hour(hour: int) -> int:
    # PARSING.md: 7–11 morning, 12 noon, 1–6 afternoon; 0 and 13–23 as written.
    return hour + 12 if 1 <= hour <= 6 else hour


def _ampm(hour: int, word: str) -> int | None:
    if not 1 <= hour <= 12:
        return None
    if word == "am":
        return 0 if hour == 12 else hour
    return 12 if hour == 12 else hour + 12


def _match_clock(toks: list[Token], i: int, when: When, prep: str) -> int | None:
    word = norm_at(toks, i)
    if not word:
        return None
    tok = toks[i]
    nxt = norm_at(toks, i + 1)
    time: TimeOfDay | None = None
    j = i + 1
    if tok.kind is Kind.CLOCK:
        hour, minute = (int(x) for x in tok.value.split(":")[:2])
        if nxt in ("am", "pm"):
            converted = _ampm(hour, nxt)
            if converted is None:
                return None
            hour, j = converted, j + 1
        if hour > 24 or minute > 59:
            return None
        time = TimeOfDay(hour % 24 if hour < 24 else 24, minute)
    elif tok.kind is Kind.NUM and tok.num is not None and float(tok.num).is_integer():
        value = int(tok.num)
        if nxt in ("am", "pm"):
            converted = _ampm(value, nxt)
            if converted is None:
                return None
            time, j = TimeOfDay(converted, 0), i + 2
        elif nxt == "oclock" and 1 <= value <= 12:
            time, j = TimeOfDay(_bare_hour(value), 0, bare=True), i + 2
        elif prep in ("at", "@", "around", "by", "before", "until") and 0 <= value <= 23:
            if read_duration_unit_follows(toks, i + 1):
                return None
            time = TimeOfDay(_bare_hour(value), 0, bare=True)
    elif tok.kind is Kind.NUM and prep in ("at", "@") and len(tok.value.partition(".")[2]) == 2:
        hour, minute = (int(x) for x in tok.value.split("."))
        if hour <= 23 and minute <= 59:
            time = TimeOfDay(hour, minute)
    elif word in ("half", "quarter") or (tok.kind is Kind.NUM and nxt in ("past", "to")):
        return _match_past_to(toks, i, when)
    elif word in ("noon", "midnight", "eod", "tonight") or (word == "lunch" and prep):
        when.part_of_day = word
        if word == "tonight":
            _set_date(when, DatePart(DateKind.OFFSET, 0))
        return _match_zone(toks, i + 1, when)
    elif word in _DAY_PARTS and (prep or _after_time_word(toks, i)):
        when.part_of_day = word
        return i + 1
    elif word == "end" and norm_at(toks, i + 1) == "of":
        return _match_end_of(toks, i, when)
    elif word == "in" and norm_at(toks, i + 1) == "the" and norm_at(toks, i + 2) in _DAY_PARTS:
        when.part_of_day = norm_at(toks, i + 2)
        return i + 3
    if time is None:
        return None
    when.time = time
    return _match_zone(toks, _day_part_suffix(toks, j, when), when)


def read_duration_unit_follows(toks: list[Token], j: int) -> bool:
    """True for "at 5 minutes…" style text, which is not a clock time."""
    return norm_at(toks, j) in ("minutes", "minute", "hours", "hour", "days", "percent", "%")


def _after_time_word(toks: list[Token], i: int) -> bool:
    # "tomorrow morning", "friday evening": a part of day right after a used date word.
    return i > 0 and toks[i - 1].used and toks[i - 1].kind is Kind.WORD


def _day_part_suffix(toks: list[Token], j: int, when: When) -> int:
    # "at 8 in the evening", "at 7 tonight", "9 at night"
    if norm_at(toks, j) == "in" and norm_at(toks, j + 1) == "the" and (
        norm_at(toks, j + 2) in _DAY_PARTS
    ):
        when.part_of_day = norm_at(toks, j + 2)
        return j + 3
    if norm_at(toks, j) == "at" and norm_at(toks, j + 1) == "night":
        when.part_of_day = "night"
        return j + 2
    if norm_at(toks, j) == "tonight":
        when.part_of_day = "tonight"
        _set_date(when, DatePart(DateKind.OFFSET, 0))
        return j + 1
    return j


def _match_past_to(toks: list[Token], i: int, when: When) -> int | None:
    word = norm_at(toks, i)
    if word == "half":
        minutes, j = 30, i + 1
    elif word == "quarter":
        minutes, j = 15, i + 1
    else:
        number = read_number(toks, i)
        if number is None or not 0 < number[0] < 60:
            return None
        minutes, j = int(number[0]), number[1]
        if norm_at(toks, j) in ("minutes", "minute", "mins", "min"):
            j += 1
    direction = norm_at(toks, j)
    hour_tok = toks[j + 1] if j + 1 < len(toks) else None
    if direction not in ("past", "after", "to") or hour_tok is None or hour_tok.used:
        return None
    hour_num = read_number(toks, j + 1)
    if hour_num is None or not 1 <= hour_num[0] <= 12 or not float(hour_num[0]).is_integer():
        return None
    hour = _bare_hour(int(hour_num[0]))
    end = hour_num[1]
    if norm_at(toks, end) in ("am", "pm"):
        hour = _ampm(int(hour_num[0]), norm_at(toks, end)) or hour
        end += 1
    if direction == "to":
        hour, minute = (hour - 1) % 24, 60 - minutes
    else:
        minute = minutes
    when.time = TimeOfDay(hour, minute)
    return _match_zone(toks, _day_part_suffix(toks, end, when), when)


def _match_zone(toks: list[Token], j: int, when: When) -> int:
    word = norm_at(toks, j)
    if not word:
        return j
    tok = toks[j]
    if tok.kind is Kind.PATH and "/" in tok.value and tok.value[0].isupper():
        when.zone = tok.value
        return j + 1
    if word in ("utc", "gmt") and norm_at(toks, j + 1) in ("+", "-"):
        number = toks[j + 2] if j + 2 < len(toks) else None
        if number is not None and number.kind is Kind.NUM and number.value.isdigit():
            hours = int(number.value)
            if hours <= 14:
                sign = "-" if norm_at(toks, j + 1) == "+" else "+"  # Etc/ signs are inverted
                when.zone = "UTC" if hours == 0 else f"Etc/GMT{sign}{hours}"
                return j + 3
    if word in ZONES and (word not in ("pacific", "eastern", "central", "mountain")
                          or norm_at(toks, j + 1) == "time"):
        when.zone = ZONES[word]
        return j + 2 if norm_at(toks, j + 1) == "time" else j + 1
    start = j + 1 if word == "in" else j
    for width in (2, 1):
        name = " ".join(norm_at(toks, k) for k in range(start, start + width))
        if name in CITY_ZONES and norm_at(toks, start + width) == "time":
            when.zone = CITY_ZONES[name]
            return start + width + 1
    return j


# --- relative phrases and day words -----------------------------------------------


def _match_relative(toks: list[Token], i: int, when: When, prep: str) -> int | None:
    word = norm_at(toks, i)
    if word == "in" or word == "within":
        duration = read_duration(toks, i + 1)
        if duration is None:
            return None
        add_duration(when, duration)
        return duration[2]
    duration = read_duration(toks, i)
    if duration is not None and prep == "":
        end = duration[2]
        if norm_at(toks, end) == "from" and norm_at(toks, end + 1) in ("now", "today"):
            add_duration(when, duration)
            return end + 2
        if norm_at(toks, end) in ("later", "hence"):
            add_duration(when, duration)
            return end + 1
    return None


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


def _match_day_word(toks: list[Token], i: int, when: When, prep: str) -> int | None:
    word = norm_at(toks, i)
    if word in ("today", "tomorrow"):
        _set_date(when, DatePart(DateKind.OFFSET, 0 if word == "today" else 1))
        return i + 1
    if word in ("the", "day") and norm_at(toks, i + (1 if word == "the" else 0)) == "day":
        k = i + (2 if word == "the" else 1)
        if norm_at(toks, k) == "after" and norm_at(toks, k + 1) == "tomorrow":
            _set_date(when, DatePart(DateKind.OFFSET, 2))
            return k + 2
        return None
    if word == "overmorrow":
        _set_date(when, DatePart(DateKind.OFFSET, 2))
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
        _set_date(when, DatePart(DateKind.WEEKEND))
        return i + 2
    target = norm_at(toks, j)
    if mode == "near" and target in _DAY_PARTS:
        _set_date(when, DatePart(DateKind.OFFSET, 0))
        when.part_of_day = target
        return j + 1
    if mode == "next" and target in ("week", "month", "year", "weekend"):
        kinds = {"week": DateKind.NEXT_WEEK, "month": DateKind.NEXT_MONTH,
                 "year": DateKind.NEXT_YEAR}
        if target == "weekend":
            _set_date(when, DatePart(DateKind.WEEKEND, 7))
        else:
            _set_date(when, DatePart(kinds[target]))
        return j + 1
    if target == "weekend" and (mode == "near" or prep in ("on", "at", "by", "over")):
        _set_date(when, DatePart(DateKind.WEEKEND))
        return j + 1
    weekday = read_weekday(toks, j)
    if weekday is None or (toks[j].norm.endswith("s") and not mode):
        return None
    day, end = weekday
    if norm_at(toks, end) == "next" and norm_at(toks, end + 1) == "week":
        mode, end = "next", end + 2
    elif norm_at(toks, end) == "this" and norm_at(toks, end + 1) == "week":
        end += 2
    kind = DateKind.NEXT_WEEKDAY if mode == "next" else DateKind.WEEKDAY
    _set_date(when, DatePart(kind, day))
    return end


def _match_end_of(toks: list[Token], i: int, when: When) -> int | None:
    j = i + 2
    if norm_at(toks, j) in ("the", "this"):
        j += 1
    target = norm_at(toks, j)
    if target in ("day", "business", "today"):
        when.part_of_day = "eod"
        return j + 1
    parts = {"week": DateKind.END_OF_WEEK, "month": DateKind.END_OF_MONTH,
             "year": DateKind.END_OF_YEAR}
    if target in parts:
        _set_date(when, DatePart(parts[target]))
        return j + 1
    return None


# --- calendar dates ----------------------------------------------------------------


def _match_calendar(toks: list[Token], i: int, when: When, prep: str) -> int | None:
    word = norm_at(toks, i)
    if not word:
        return None
    tok = toks[i]
    if word in ("eow", "eom"):
        kind = DateKind.END_OF_WEEK if word == "eow" else DateKind.END_OF_MONTH
        _set_date(when, DatePart(kind))
        return i + 1
    if tok.kind is Kind.DATE:
        year, month, mday = (int(x) for x in tok.value.split("-"))
        _set_date(when, DatePart(DateKind.CALENDAR, month=month, day=mday, year=year))
        return i + 1
    if word in MONTHS:
        after = _day_number(toks, i + 1)
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
    if tok.kind is Kind.NUM and norm_at(toks, i + 1) == "/":
        return _match_slash(toks, i, when)
    if word == "the" and toks[j].kind is not Kind.NUM and norm_at(toks, k) in _AFTER_ORD_OK:
        if norm_at(toks, k) == "of":
            return None  # "the 2nd of the month" is recurrence, read elsewhere
        _set_date(when, DatePart(DateKind.MONTHDAY, day=day[0]))
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
    _set_date(when, DatePart(DateKind.CALENDAR, month=month, day=day, year=year))
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
    _set_date(when, DatePart(DateKind.CALENDAR, month=month, day=day))
    return i + 3


__all__ = ["PARTS_OF_DAY", "match_piece", "scan_when"]
