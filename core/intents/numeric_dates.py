"""Numeric dates ("3/12", "12/03/2026", "2.1.") read with the workspace's date order.

"3/12" is 3 December in most of the world and March 12 in the US, so the parser
is told which order a workspace writes (``DateOrder``). Before the grammar runs,
``fold_numeric_dates`` turns every numeric date it can read into one ``DATE``
token (``YYYY-MM-DD``, year ``0000`` when none was written: the next such day).
Without an order only unambiguous forms fold ("25/12": no month 25); the rest is
left to ``core.intents.dates``, which asks back.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from core.intents.tokens import Kind, Token


class DateOrder(StrEnum):
    """How a workspace writes numeric dates."""

    DMY = "DMY"  # 3/12 = 3 December
    MDY = "MDY"  # 3/12 = March 12


#: Words after which "9.30" is a clock time, never a date.
_TIME_PREPS = frozenset({"at", "@", "around", "from", "till", "until", "to", "-"})


def _digits(tok: Token | None) -> int | None:
    if tok is None or tok.kind is not Kind.NUM or not tok.value.isdigit():
        return None
    return int(tok.value)


def _touching(toks: list[Token], i: int, j: int) -> bool:
    return all(toks[k].end == toks[k + 1].start for k in range(i, j))


def _year(value: int, width: int) -> int | None:
    if width == 4 and 1900 < value < 2200:
        return value
    if width == 2:
        return 2000 + value
    return None


def _order(a: int, b: int, order: DateOrder | None) -> tuple[int, int] | None:
    """(month, day) from the two leading numbers, or ``None`` if they cannot be read."""
    if not (1 <= a <= 31 and 1 <= b <= 31) or (a > 12 and b > 12):
        return None
    if a > 12:
        return b, a
    if b > 12:
        return a, b
    if a == b:
        return a, b
    if order is None:
        return None  # ambiguous: core.intents.dates asks back
    return (b, a) if order is DateOrder.DMY else (a, b)


def fold_numeric_dates(toks: list[Token], order: DateOrder | None) -> list[Token]:
    """``toks`` with each readable numeric date replaced by one ``DATE`` token."""
    if not any(t.kind is Kind.NUM for t in toks):
        return toks
    out: list[Token] = []
    i = 0
    while i < len(toks):
        folded = _slash(toks, i, order) or _dotted(toks, i)
        if folded is None:
            out.append(toks[i])
            i += 1
            continue
        token, i = folded
        out.append(token)
    return out


def _make(
    toks: list[Token], i: int, end: int, year: int, month: int, day: int
) -> tuple[Token, int] | None:
    try:
        date(year or 2000, month, day)  # 2000 is a leap year: "29/2" stays readable
    except ValueError:
        return None
    raw = "".join(t.text for t in toks[i:end])
    value = f"{year:04d}-{month:02d}-{day:02d}"
    return Token(raw, value, Kind.DATE, toks[i].start, toks[end - 1].end, value), end


def _slash(toks: list[Token], i: int, order: DateOrder | None) -> tuple[Token, int] | None:
    # "3/12", "12/03/2027", "5/1/27"
    if i + 2 >= len(toks) or toks[i + 1].norm != "/" or not _touching(toks, i, i + 2):
        return None
    a, b = _digits(toks[i]), _digits(toks[i + 2])
    if a is None or b is None:
        return None
    end, year = i + 3, 0
    if end + 1 < len(toks) and toks[end].norm == "/" and _touching(toks, i, end + 1):
        raw_year = toks[end + 1].value
        y = _year(int(raw_year), len(raw_year)) if raw_year.isdigit() else None
        if y is None:
            return None
        end, year = end + 2, y
    month_day = _order(a, b, order)
    if month_day is None:
        return None
    return _make(toks, i, end, year, *month_day)


def _dotted(toks: list[Token], i: int) -> tuple[Token, int] | None:
    # "2.1." and "24.12.2026" are always day first (nobody writes month.day.)
    tok = toks[i]
    if tok.kind is not Kind.NUM or tok.value.count(".") != 1 or i + 1 >= len(toks):
        return None
    if i and toks[i - 1].norm in _TIME_PREPS:
        return None
    if toks[i + 1].norm != "." or not _touching(toks, i, i + 1):
        return None
    day_s, month_s = tok.value.split(".")
    if not (day_s.isdigit() and month_s.isdigit()) or len(day_s) > 2 or len(month_s) > 2:
        return None
    day, month = int(day_s), int(month_s)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    end, year = i + 2, 0
    if end < len(toks) and _touching(toks, i + 1, end) and toks[end].value.isdigit():
        y = _year(int(toks[end].value), len(toks[end].value))
        if y is None:
            return None
        end, year = end + 1, y
    return _make(toks, i, end, year, month, day)
