"""The limits of a recurrence: "until Friday", "for 4 weeks", "5 times", "starting Monday".

Read anywhere in the message once a recurrence has been found, into its
``until`` / ``for_span`` / ``count`` / ``starting`` fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.intents.hours import read_clock
from core.intents.lexicon import RRULE_DAYS
from core.intents.times import match_piece
from core.intents.tokens import Token
from core.intents.when import When
from core.intents.words import norm_at, read_number, read_unit, read_weekday_list

if TYPE_CHECKING:
    from core.intents.recurrence import Recurrence


def scan_bounds(toks: list[Token], rec: Recurrence) -> None:
    """Read the bounds of ``rec`` from ``toks``, marking their words used."""
    i = 0
    while i < len(toks):
        word = norm_at(toks, i)
        end: int | None = None
        window = None
        if word in ("from", "between") and _hourly(rec):
            window = _window(toks, i + 1, rec)
        if window is not None:
            end = window
        elif word == "until" and norm_at(toks, i + 1) in ("further", "cancelled", "canceled"):
            # "until further notice", "until cancelled": no end, and no part of the title
            end = i + (3 if norm_at(toks, i + 2) == "notice" else 2)
        elif word in ("forever", "indefinitely"):
            end = i + 1
        elif word in ("until", "ending", "up"):
            j = i + 2 if word == "up" and norm_at(toks, i + 1) == "to" else i + 1
            if word == "up" and j == i + 1:
                i += 1
                continue
            bound = When()
            end = match_piece(toks, j, bound)
            if end is not None:
                rec.until = bound
        elif word in ("starting", "from", "beginning", "effective"):
            j = i + 2 if norm_at(toks, i + 1) in ("on", "from") else i + 1
            bound = When()
            end = match_piece(toks, j, bound)
            if end is not None:
                rec.starting = bound
        elif word == "for":
            end = _for_span(toks, i + 1, rec)
        elif (
            word in ("except", "excluding")
            and read_weekday_list(toks, i + 1) is not None
            and (rec.byday or (rec.freq == "DAILY" and rec.interval == 1))
        ):
            # "every weekday except Friday", "every day except Sunday"
            dropped = read_weekday_list(toks, i + 1)
            assert dropped is not None
            names = {RRULE_DAYS[d] for d in dropped[0]}
            kept = [day for day in rec.byday or list(RRULE_DAYS) if day not in names]
            rec.freq, rec.byday = "WEEKLY", kept or rec.byday
            end = dropped[1]
        elif (
            word in ("except", "excluding", "but")
            and rec.freq == "DAILY"
            and (
                rec.interval == 1
                and norm_at(toks, i + 1 + (word == "but")) in ("weekends", "weekend")
            )
        ):
            # "every day except weekends" is every weekday
            rec.freq, rec.byday = "WEEKLY", ["MO", "TU", "WE", "TH", "FR"]
            end = i + 2 + (word == "but")
        else:
            number = read_number(toks, i)
            if number is not None and norm_at(toks, number[1]) == "times" and number[0] >= 1:
                rec.count, end = int(number[0]), number[1] + 1
        if end is not None:
            for tok in toks[i:end]:
                tok.used = True
            i = end
        else:
            i += 1


def _hourly(rec: Recurrence) -> bool:
    return (
        bool(rec.every_seconds)
        and rec.every_seconds % 3600 == 0
        and (rec.every_seconds <= 12 * 3600)
    )


def _window(toks: list[Token], j: int, rec: Recurrence) -> int | None:
    """ "every hour from 9 to 5 (on weekdays)": fixed hours of the day, not an interval."""
    first = read_clock(toks, j)
    if first is None or norm_at(toks, first[2]) not in ("to", "and", "until", "-", "till"):
        return None
    last = read_clock(toks, first[2] + 1)
    if last is None or last[0] < first[0]:
        return None
    step = rec.every_seconds // 3600
    rec.hours, rec.minute = list(range(first[0], last[0] + 1, step)), first[1]
    rec.every_seconds, rec.freq, rec.interval = 0, "DAILY", 1
    end = last[2]
    k = end + 1 if norm_at(toks, end) == "on" else end
    if norm_at(toks, k) in ("weekdays", "workdays"):
        rec.freq, rec.byday, end = "WEEKLY", ["MO", "TU", "WE", "TH", "FR"], k + 1
    elif norm_at(toks, k) in ("weekends",):
        rec.freq, rec.byday, end = "WEEKLY", ["SA", "SU"], k + 1
    else:
        days = read_weekday_list(toks, k) if k > end else None
        if days is not None:
            rec.freq, rec.byday, end = "WEEKLY", [RRULE_DAYS[d] for d in days[0]], days[1]
    return end


def _for_span(toks: list[Token], j: int, rec: Recurrence) -> int | None:
    if norm_at(toks, j) == "the" and norm_at(toks, j + 1) == "next":
        j += 2
    number = read_number(toks, j)
    if number is None:
        return None
    if norm_at(toks, number[1]) == "times":
        rec.count = int(number[0])
        return number[1] + 1
    unit = read_unit(toks, number[1])
    if unit is None:
        return None
    rec.for_span = (unit[0], number[0] * unit[1])
    return unit[2]
