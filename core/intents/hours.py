"""Clock times in a message: "at 5", "17:30", "half past 3", "noon", "9am PST".

Each matcher reads one phrase at ``i`` into a ``When`` and returns where it ends
(or ``None``); ``core.intents.times`` decides where to try them.
"""

from __future__ import annotations

from core.intents.dates import match_end_of, set_date
from core.intents.lexicon import CITY_ZONES, ZONES
from core.intents.tokens import Kind, Token
from core.intents.when import DateKind, DatePart, TimeOfDay, When
from core.intents.words import norm_at, read_number

DAY_PARTS = frozenset({"morning", "afternoon", "evening", "night"})


def _bare_hour(hour: int) -> int:
    # PARSING.md: 7–11 morning, 12 noon, 1–6 afternoon; 0 and 13–23 as written.
    return hour + 12 if 1 <= hour <= 6 else hour


def _ampm(hour: int, word: str) -> int | None:
    if not 1 <= hour <= 12:
        return None
    if word == "am":
        return 0 if hour == 12 else hour
    return 12 if hour == 12 else hour + 12


def match_clock(toks: list[Token], i: int, when: When, prep: str) -> int | None:
    """ "at 5", "17:30", "9am PST", "noon", "half past 3", "tonight", "end of day"."""
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
    elif (
        tok.kind is Kind.NUM
        and tok.value.isdigit()
        and len(tok.value) in (3, 4)
        and (
            int(tok.value) % 100 < 60
            and int(tok.value) // 100 < 24
            and (prep in ("at", "@") or nxt in ("am", "pm"))
        )
    ):
        # "at 930", "0915", "1130pm": hours and minutes written together
        hour, minute = divmod(int(tok.value), 100)
        if nxt in ("am", "pm"):
            converted = _ampm(hour, nxt)
            if converted is None:
                return None
            hour, j = converted, j + 1
        time = TimeOfDay(hour, minute)
    elif tok.kind is Kind.NUM and tok.num is not None and float(tok.num).is_integer():
        value = int(tok.num)
        if nxt in ("am", "pm"):
            converted = _ampm(value, nxt)
            if converted is None:
                return None
            time, j = TimeOfDay(converted, 0), i + 2
        elif (
            nxt == "h"
            and 0 <= value <= 23
            and toks[i + 1].start == tok.end
            and prep in ("at", "@", "around", "by", "before", "until")
        ):
            # "15h", "15h30": the continental 24-hour form
            minute, j = 0, i + 2
            after = toks[j] if j < len(toks) else None
            if (
                after is not None
                and after.kind is Kind.NUM
                and after.start == toks[i + 1].end
                and len(after.value) == 2
                and after.value.isdigit()
                and int(after.value) < 60
            ):
                minute, j = int(after.value), j + 1
            time = TimeOfDay(value, minute)
        elif nxt == "oclock" and 1 <= value <= 12:
            time, j = TimeOfDay(_bare_hour(value), 0, bare=True), i + 2
        elif prep in ("at", "@", "around", "by", "before", "until") and 0 <= value <= 23:
            if read_duration_unit_follows(toks, i + 1):
                return None
            time = TimeOfDay(_bare_hour(value), 0, bare=True)
    elif (
        tok.kind is Kind.NUM
        and len(tok.value.partition(".")[2]) == 2
        and (prep in ("at", "@") or nxt in ("am", "pm"))
    ):  # "at 9.30", "3.30pm": the British dot
        hour, minute = (int(x) for x in tok.value.split("."))
        if nxt in ("am", "pm"):
            converted = _ampm(hour, nxt)
            hour, j = (converted, j + 1) if converted is not None else (99, j)
        if hour <= 23 and minute <= 59:
            time = TimeOfDay(hour, minute)
    elif word in ("half", "quarter") or (tok.kind is Kind.NUM and nxt in ("past", "to")):
        return _match_past_to(toks, i, when)
    elif word == "after" and nxt in ("lunch", "work") and not (i and toks[i - 1].norm == "the"):
        when.part_of_day = "after " + nxt  # 13:00 and 18:00 (stated defaults)
        return i + 2
    elif word in ("noon", "midnight", "eod", "tonight") or (word == "lunch" and prep):
        when.part_of_day = word
        if word == "tonight":
            set_date(when, DatePart(DateKind.OFFSET, 0))
        return _more_times(toks, _match_zone(toks, i + 1, when), when)
    elif word in DAY_PARTS and (prep or _after_time_word(toks, i)):
        when.part_of_day = word
        return i + 1
    elif word == "end" and norm_at(toks, i + 1) == "of":
        return match_end_of(toks, i, when)
    elif word == "in" and norm_at(toks, i + 1) == "the" and norm_at(toks, i + 2) in DAY_PARTS:
        when.part_of_day = norm_at(toks, i + 2)
        return i + 3
    if time is None:
        return None
    when.time = time
    end = _match_zone(toks, _day_part_suffix(toks, j, when), when)
    return _more_times(toks, end, when)


def _more_times(toks: list[Token], j: int, when: When) -> int:
    """ "at 9 and 5", "at 9am and 1pm": further clock times of a recurrence."""
    while norm_at(toks, j) in ("and", "&", ",") and j + 1 < len(toks):
        tok = toks[j + 1]
        nxt = norm_at(toks, j + 2)
        if not tok.used and tok.norm in ("noon", "midnight"):  # "at 9 and noon"
            when.extra_times.append(TimeOfDay(12 if tok.norm == "noon" else 0, 0))
            j += 2
            continue
        if tok.used or tok.kind not in (Kind.NUM, Kind.CLOCK):
            break
        if tok.kind is Kind.CLOCK:
            hour, minute = (int(x) for x in tok.value.split(":")[:2])
        elif tok.value.isdigit() and int(tok.value) <= 23:
            hour, minute = _bare_hour(int(tok.value)), 0
        else:
            break
        end = j + 2
        if nxt in ("am", "pm"):
            converted = _ampm(hour if tok.kind is Kind.CLOCK else int(tok.value), nxt)
            if converted is None:
                break
            hour, end = converted, j + 3
        if hour > 23 or minute > 59:
            break
        when.extra_times.append(TimeOfDay(hour, minute))
        j = end
    return j


def read_duration_unit_follows(toks: list[Token], j: int) -> bool:
    """True for "at 5 minutes…" style text, which is not a clock time."""
    return norm_at(toks, j) in ("minutes", "minute", "hours", "hour", "days", "percent", "%")


def _after_time_word(toks: list[Token], i: int) -> bool:
    # "tomorrow morning", "friday evening": a part of day right after a used date word.
    return i > 0 and toks[i - 1].used and toks[i - 1].kind is Kind.WORD


def _day_part_suffix(toks: list[Token], j: int, when: When) -> int:
    # "at 8 in the evening", "at 7 tonight", "9 at night", "9am sharp"
    if norm_at(toks, j) in ("sharp", "exactly"):
        j += 1
    if (
        norm_at(toks, j) == "in"
        and norm_at(toks, j + 1) == "the"
        and (norm_at(toks, j + 2) in DAY_PARTS)
    ):
        when.part_of_day = norm_at(toks, j + 2)
        return j + 3
    if norm_at(toks, j) == "at" and norm_at(toks, j + 1) == "night":
        when.part_of_day = "night"
        return j + 2
    if norm_at(toks, j) == "tonight":
        when.part_of_day = "tonight"
        set_date(when, DatePart(DateKind.OFFSET, 0))
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
    # "my time", "local time", "my local time": the request's own zone
    k = j + 1 if word == "my" else j
    if norm_at(toks, k) == "local":
        k += 1
    if k > j and norm_at(toks, k) == "time":
        return k + 1
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
    if word in ZONES:  # right after a clock time, "Eastern" or "PT" is a zone
        when.zone = ZONES[word]
        return j + 2 if norm_at(toks, j + 1) == "time" else j + 1
    start = j + 1 if word == "in" else j
    for width in (2, 1):
        name = " ".join(norm_at(toks, k) for k in range(start, start + width))
        if name in CITY_ZONES and norm_at(toks, start + width) == "time":
            when.zone = CITY_ZONES[name]
            return start + width + 1
    return j


def read_clock(toks: list[Token], i: int) -> tuple[int, int, int] | None:
    """A bare clock time at ``i`` ("9", "5pm", "17:30") → (hour, minute, next index).

    Used where the context already says it is a time ("from 9 to 5").
    """
    tok = toks[i] if 0 <= i < len(toks) else None
    if tok is None or tok.used:
        return None
    nxt = norm_at(toks, i + 1)
    if tok.kind is Kind.CLOCK:
        hour, minute = (int(x) for x in tok.value.split(":")[:2])
    elif tok.kind is Kind.NUM and tok.value.isdigit() and int(tok.value) <= 23:
        hour, minute = int(tok.value), 0
    elif tok.norm == "noon":
        return 12, 0, i + 1
    else:
        return None
    if nxt in ("am", "pm"):
        converted = _ampm(hour, nxt)
        return (converted, minute, i + 2) if converted is not None else None
    if tok.kind is Kind.NUM:
        hour = _bare_hour(hour)
    return (hour, minute, i + 1) if hour <= 23 and minute <= 59 else None
