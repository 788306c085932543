"""The recurrence grammar: "every …", "daily", "on Mondays", "the last Friday of the month".

``scan_recurrence`` reads the repeating part of a message (and its "until",
"for N weeks", "N times", "starting …" bounds) into a ``Recurrence``, marking
those tokens used. Turning it into an RRULE or interval is ``core.intents.specs``'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.intents.bounds import scan_bounds
from core.intents.lexicon import MONTHS, REMIND_VERBS, RRULE_DAYS
from core.intents.tokens import Token
from core.intents.when import When
from core.intents.words import (
    is_plural_day,
    norm_at,
    read_number,
    read_ordinal,
    read_unit,
    read_weekday_list,
    weekday_of,
)

_PODS = frozenset({"morning", "afternoon", "evening", "night"})
_WEEKDAY_WORDS = frozenset({"weekday", "weekdays", "workday", "workdays"})
_WEEKEND_WORDS = frozenset({"weekend", "weekends"})
_ADVERBS = {
    "daily": ("DAILY", 1),
    "nightly": ("DAILY", 1),
    "weekly": ("WEEKLY", 1),
    "monthly": ("MONTHLY", 1),
    "yearly": ("YEARLY", 1),
    "biweekly": ("WEEKLY", 2),
    "bimonthly": ("MONTHLY", 2),
    "quarterly": ("MONTHLY", 3),
}
_MONTH_WORDS = ("the", "every", "each", "a")


@dataclass(slots=True)
class Recurrence:
    """A repeating schedule as read; ``every_seconds`` > 0 means a plain interval."""

    freq: str = "DAILY"
    interval: int = 1
    every_seconds: int = 0
    byday: list[str] = field(default_factory=list)
    bymonthday: list[int] = field(default_factory=list)
    bymonth: list[int] = field(default_factory=list)
    bysetpos: list[int] = field(default_factory=list)
    part_of_day: str | None = None
    until: When | None = None
    starting: When | None = None
    count: int | None = None
    for_span: tuple[str, float] | None = None  # ("s", seconds) | ("mo", months)
    times_a_day: int = 0  # "twice a day", "3 times daily"
    quarterly: bool = False  # calendar quarters: January, April, July, October
    hours: list[int] = field(default_factory=list)  # "every hour from 9 to 5"
    minute: int = 0  # the minute of those hours
    weak: bool = False  # read from an adverb such as "weekly" only
    adjective: bool = False  # "the nightly sync", "weekly report": maybe just a name
    span: tuple[int, int] = (0, 0)  # the tokens the recurrence itself was read from


def scan_recurrence(toks: list[Token]) -> Recurrence | None:
    """Find the recurrence in ``toks`` (strong forms first), marking its tokens used."""
    found: Recurrence | None = None
    for weak in (False, True):
        i = 0
        while i < len(toks) and found is None:
            rec = Recurrence(weak=weak)
            end = _match_weak(toks, i, rec) if weak else _match_strong(toks, i, rec)
            if end is not None:
                for tok in toks[i:end]:
                    tok.used = True
                rec.span = (i, end)
                found = rec
            i += 1
        if found is not None:
            break
    if found is not None and not found.weak:
        _absorb_adverb(toks, found)
    if found is not None and found.freq == "MONTHLY" and not (found.byday or found.bymonthday):
        _month_position(toks, found)
    if found is not None:
        scan_bounds(toks, found)
    return found


def _month_position(toks: list[Token], rec: Recurrence) -> None:
    # "monthly on the last day", "every month on the second Tuesday"
    for i, tok in enumerate(toks):
        if tok.used or tok.norm not in ("on", "the"):
            continue
        j = i + 1 if tok.norm == "on" and norm_at(toks, i + 1) == "the" else i
        j = j + 1 if norm_at(toks, j) == "the" else j
        ordinal = read_ordinal(toks, j)
        if ordinal is None:
            continue
        n, k = ordinal
        days = read_weekday_list(toks, k)
        if days is not None and len(days[0]) == 1 and n != 0 and -5 <= n <= 5:
            rec.byday, end = [f"{n:+d}{RRULE_DAYS[days[0][0]]}"], days[1]
        elif norm_at(toks, k) == "day" and (n == -1 or 1 <= n <= 31):
            rec.bymonthday, end = [n], k + 1
        else:
            continue
        for used in toks[i:end]:
            used.used = True
        return


def _absorb_adverb(toks: list[Token], rec: Recurrence) -> None:
    # "weekly on Fridays", "biweekly on Tuesdays": the adverb repeats (or sharpens) the rule.
    for i, tok in enumerate(toks):
        if tok.used or tok.norm not in _ADVERBS:
            continue
        adverb = Recurrence(weak=True)
        if _match_weak(toks, i, adverb) is None or adverb.adjective:
            continue
        if adverb.freq == rec.freq:
            rec.interval = max(rec.interval, adverb.interval)
            tok.used = True
        return


def _match_strong(toks: list[Token], i: int, rec: Recurrence) -> int | None:
    word = norm_at(toks, i)
    if word in ("every", "each"):
        j = i + 1
        if norm_at(toks, j) == "single":
            j += 1
        return _after_every(toks, j, rec)
    if word == "once" and norm_at(toks, i + 1) in ("a", "per", "every", "each"):
        unit = read_unit(toks, i + 2)
        if unit is not None:
            return _set_unit(rec, unit[0], unit[1], 1, unit[2])
    if word in ("on", "the"):
        end = _match_nth_of_month(toks, i + (1 if word == "on" else 0), rec, every=False)
        if end is not None:
            return end
    if word in ("twice", "thrice") or norm_at(toks, i + 1) == "times":
        end = _match_times_a_day(toks, i, rec)
        if end is not None:
            return end
    if word in ("the", "end"):
        end = _match_end_of_every(toks, i + (1 if word == "the" else 0), rec)
        if end is not None:
            return end
    if word in ("on", "weekdays", "weekends") or weekday_of(word, context=False) is not None:
        j = i + 1 if word == "on" else i
        target = norm_at(toks, j)
        if target in ("weekdays", "weekends", "workdays"):
            return _days(rec, j + 1, weekend=target == "weekends", toks=toks)
        if is_plural_day(target) and weekday_of(target, context=False) is not None:
            days = read_weekday_list(toks, j)
            if days is not None:
                rec.freq, rec.byday = "WEEKLY", [RRULE_DAYS[d] for d in days[0]]
                return _pod_suffix(toks, days[1], rec)
    return None


_ADVERB_FOLLOWERS = frozenset(
    {
        "",
        "at",
        "on",
        "from",
        "until",
        "starting",
        "in",
        "by",
        ",",
        ".",
        "!",
        "?",
        "to",
        "and",
        "for",
        "between",
        "around",
        "@",
        "beginning",
        "except",
        "during",
        "each",
        "every",
        "-",
        ":",
    }
)


_VERBS_AFTER = REMIND_VERBS | {"run", "fetch", "post", "send", "check", "execute"}


def _match_weak(toks: list[Token], i: int, rec: Recurrence) -> int | None:
    word = norm_at(toks, i)
    if word in _ADVERBS or word == "hourly":
        follower = norm_at(toks, i + 1)
        # "daily standup" names a thing; "daily remind me …", "weekly run `x`" schedule it.
        rec.adjective = follower not in _ADVERB_FOLLOWERS and follower not in _VERBS_AFTER
    if word == "hourly":
        rec.every_seconds = 3600
        return i + 1
    if word in _ADVERBS:
        rec.freq, rec.interval = _ADVERBS[word]
        rec.part_of_day = "night" if word == "nightly" else None
        if word == "quarterly":
            rec.interval, rec.quarterly = 1, True
        return i + 1
    return None


def _after_every(toks: list[Token], j: int, rec: Recurrence) -> int | None:
    word = norm_at(toks, j)
    interval = 1
    if word == "other":
        interval, j = 2, j + 1
        word = norm_at(toks, j)
    else:
        ordinal = read_ordinal(toks, j)
        if ordinal is not None and ordinal[0] != 1:
            end = _match_nth_of_month(toks, j, rec, every=True)
            if end is not None:
                return end
            if ordinal[0] > 1:
                interval, j = ordinal[0], ordinal[1]
                word = norm_at(toks, j)
        elif ordinal is not None:
            end = _match_nth_of_month(toks, j, rec, every=True)
            if end is not None:
                return end
        number = read_number(toks, j) if interval == 1 else None
        unit = read_unit(toks, number[1]) if number is not None else None
        if number is not None and unit is not None and number[0] > 0:
            if unit[0] == "s":
                return _set_unit(rec, "s", unit[1] * number[0], 1, unit[2])
            return _set_unit(rec, unit[0], 1, max(1, int(number[0])), unit[2])
    unit = read_unit(toks, j)
    if unit is not None:
        kind, size, end = unit
        if kind == "s" and [norm_at(toks, k) for k in range(end, end + 3)] == ["and", "a", "half"]:
            size, end = size * 3 // 2, end + 3  # "every hour and a half"
        return _set_unit(rec, kind, size, interval, end)
    if word == "half" and norm_at(toks, j + 1) == "hour":
        rec.every_seconds = 1800
        return j + 2
    if word == "quarter":
        rec.freq, rec.interval, rec.quarterly = "MONTHLY", interval, True
        return j + 1
    if word in _PODS:
        rec.freq, rec.interval, rec.part_of_day = "DAILY", interval, word
        return j + 1
    if word in _WEEKDAY_WORDS or (
        word in ("business", "working") and norm_at(toks, j + 1) in ("day", "days")
    ):
        end = j + 1 if word in _WEEKDAY_WORDS else j + 2
        return _days(rec, end, weekend=False, toks=toks)
    if word in _WEEKEND_WORDS:
        return _days(rec, j + 1, weekend=True, toks=toks)
    if word in MONTHS:
        number = read_number(toks, j + 1) or read_ordinal(toks, j + 1)
        if number is not None and 1 <= number[0] <= 31:
            rec.freq, rec.bymonth, rec.bymonthday = "YEARLY", [MONTHS[word]], [int(number[0])]
            return number[1]
    days = read_weekday_list(toks, j)
    if days is not None:
        rec.freq, rec.interval = "WEEKLY", interval
        rec.byday = [RRULE_DAYS[d] for d in days[0]]
        return _pod_suffix(toks, days[1], rec)
    return None


def _set_unit(rec: Recurrence, kind: str, size: float, interval: int, end: int) -> int:
    total = size * interval
    if kind == "s" and total < 86400:
        rec.every_seconds = int(total)
    elif kind == "s" and total % 604800 == 0:
        rec.freq, rec.interval = "WEEKLY", int(total // 604800)
    elif kind == "s":
        rec.freq, rec.interval = "DAILY", max(1, int(total // 86400))
    else:
        rec.freq, rec.interval = ("MONTHLY" if kind == "mo" else "YEARLY"), interval
    return end


def _days(rec: Recurrence, end: int, *, weekend: bool, toks: list[Token]) -> int:
    rec.freq = "WEEKLY"
    rec.byday = ["SA", "SU"] if weekend else ["MO", "TU", "WE", "TH", "FR"]
    return _pod_suffix(toks, end, rec)


def _pod_suffix(toks: list[Token], end: int, rec: Recurrence) -> int:
    # "every Monday morning", "weekdays at night"
    if norm_at(toks, end) in _PODS:
        rec.part_of_day = norm_at(toks, end)
        return end + 1
    return end


def _match_times_a_day(toks: list[Token], i: int, rec: Recurrence) -> int | None:
    """ "twice a day", "three times daily", "2 times per day": a daily rule with several times."""
    word = norm_at(toks, i)
    if word in ("twice", "thrice"):
        count, j = (2 if word == "twice" else 3), i + 1
    else:
        number = read_number(toks, i)
        if number is None or not 1 < number[0] <= 24 or norm_at(toks, number[1]) != "times":
            return None
        count, j = int(number[0]), number[1] + 1
    if norm_at(toks, j) == "daily":
        end = j + 1
    elif norm_at(toks, j) in ("a", "per", "each", "every") and norm_at(toks, j + 1) == "day":
        end = j + 2
    else:
        return None
    rec.freq, rec.times_a_day = "DAILY", count
    return end


def _match_end_of_every(toks: list[Token], i: int, rec: Recurrence) -> int | None:
    """ "(the) end of every month / each quarter / every year": its last day, 17:00."""
    if norm_at(toks, i) != "end" or norm_at(toks, i + 1) != "of":
        return None
    if norm_at(toks, i + 2) not in ("every", "each"):
        return None
    unit = norm_at(toks, i + 3)
    if unit in ("month", "quarter"):
        rec.freq, rec.bymonthday, rec.quarterly = "MONTHLY", [-1], unit == "quarter"
    elif unit == "year":
        rec.freq, rec.bymonth, rec.bymonthday = "YEARLY", [12], [31]
    elif unit == "week":
        rec.freq, rec.byday = "WEEKLY", ["FR"]
    else:
        return None
    rec.part_of_day = "eod"
    return i + 4


def _month_tail(toks: list[Token], j: int) -> int | None:
    """``of (the|every|each) month`` / ``of every month`` / ``each month`` → end."""
    k = j + 1 if norm_at(toks, j) == "day" else j
    if norm_at(toks, k) == "of":
        k += 1
    elif norm_at(toks, k) not in ("every", "each"):
        return None
    if norm_at(toks, k) in _MONTH_WORDS and norm_at(toks, k + 1) in ("month", "quarter"):
        return k + 2
    return None


def _match_nth_of_month(toks: list[Token], i: int, rec: Recurrence, *, every: bool) -> int | None:
    """ "the 2nd Tuesday of every month", "the last day of the month", "every 3rd of May".

    A date such as "the 5th of March" is yearly only after "every"/"each".
    """
    j = i + 1 if norm_at(toks, i) == "the" else i
    ordinal = read_ordinal(toks, j)
    if ordinal is None:
        return None
    n, k = ordinal
    ns = [n]  # "the 1st and 15th", "the first and third Monday"
    while norm_at(toks, k) in ("and", ",", "&") and read_ordinal(toks, k + 1) is not None:
        more = read_ordinal(toks, k + 1)
        assert more is not None
        ns.append(more[0])
        k = more[1]
    word = norm_at(toks, k)
    days = read_weekday_list(toks, k) if word else None
    if days is not None and len(days[0]) == 1 and all(-5 <= m <= 5 and m for m in ns):
        end = _month_tail(toks, days[1])
        if end is None and len(ns) > 1 and every:
            end = days[1]  # "every 2nd and 4th Tuesday" can only be monthly
        if end is not None:
            rec.freq = "MONTHLY"
            rec.byday = [f"{m:+d}{RRULE_DAYS[days[0][0]]}" for m in ns]
            rec.quarterly = toks[end - 1].norm == "quarter"
            return end
        return None
    if word in ("weekday", "workday", "business", "working"):
        k2 = k + 2 if word in ("business", "working") else k + 1
        end = _month_tail(toks, k2)
        if end is not None:
            rec.freq, rec.byday = "MONTHLY", ["MO", "TU", "WE", "TH", "FR"]
            rec.bysetpos = ns
            rec.quarterly = toks[end - 1].norm == "quarter"
            return end
        return None
    if n == -1 and word != "day":
        return None
    if all(1 <= m <= 31 or m == -1 for m in ns):
        end = _month_tail(toks, k)
        if end is not None:
            rec.freq, rec.bymonthday = "MONTHLY", ns
            rec.quarterly = toks[end - 1].norm == "quarter"
            return end
        if every and norm_at(toks, k) == "of" and norm_at(toks, k + 1) in MONTHS and n > 0:
            rec.freq, rec.bymonth, rec.bymonthday = "YEARLY", [MONTHS[norm_at(toks, k + 1)]], ns
            return k + 2
    return None
