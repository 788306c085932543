"""Cleaning what callers give the task service into values the store can keep.

Pure functions, no I/O. Each raises a ``KairosError`` whose message says what
was wrong and what to do instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from core.errors import InvalidInput, InvalidSchedule
from core.models import TaskCreate, TaskUpdate
from core.schedule import (
    IntervalSchedule,
    MixedSchedule,
    RRuleSchedule,
    ScheduleSpec,
    check_timezone,
    dump_schedule,
    parse_schedule,
)

#: The limits of the ``tasks.title`` / ``tasks.description`` columns.
TITLE_MAX = 500
DESCRIPTION_MAX = 10_000

#: The instants every zone can render and every database can store. Python's
#: ``datetime`` ends at 9999-12-31: a UTC instant that late overflows when
#: shown east of UTC, and one in year 1 west of it; nobody plans that far.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

#: What PostgreSQL's text columns cannot hold: NUL, and UTF-16 surrogates
#: (which arrive as lone ``\ud800`` escapes in JSON and cannot be encoded as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` without the characters no database column can store (NUL, lone surrogates).

    They are invisible or meaningless to people, so free text loses them
    silently; identifiers and actions are refused instead (``check_storable``).
    """
    return _UNSTORABLE.sub("", text)


def check_storable(value: object, field: str) -> None:
    """Refuse a value with characters the database cannot store, anywhere inside it."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise InvalidInput(
                f"The field {field!r} contains a character that cannot be stored "
                "(a NUL byte or an unpaired surrogate).",
                hint="Remove control characters from it and try again.",
            )
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            check_storable(key, field)
            check_storable(inner, field)
    elif isinstance(value, list | tuple | set | frozenset):
        for inner in value:
            check_storable(inner, field)


def check_instant(value: datetime, what: str) -> datetime:
    """``value`` when it lies between 1970 and 9000 (naive values as wall-clock time)."""
    low, high = EARLIEST, LATEST
    if value.tzinfo is None or value.utcoffset() is None:
        low, high = low.replace(tzinfo=None), high.replace(tzinfo=None)
    if not low <= value < high:
        shown = value.isoformat(sep=" ", timespec="minutes")
        raise InvalidInput(
            f"The {what} {shown} is out of range: "
            "Kairos keeps dates from 1970 up to the year 9000.",
            hint="Pick a date between 1970 and 9000.",
        )
    return value


def clean_title(value: object) -> str:
    if isinstance(value, str):
        value = storable(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(
            "The task title is empty.",
            hint="Give the task a short title, e.g. 'Send the weekly report'.",
        )
    title = " ".join(value.split())  # one line: titles go into lists and notifications
    if len(title) > TITLE_MAX:
        raise InvalidInput(
            f"The task title is {len(title)} characters long; the limit is {TITLE_MAX}.",
            hint="Shorten the title and put the details in the description.",
        )
    return title


def clean_description(value: object) -> str:
    text = "" if value is None else storable(str(value)).strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"The description is {len(text)} characters long; the limit is {DESCRIPTION_MAX}.",
            hint="Shorten it, or link to a document instead.",
        )
    return text


def task_numbers(refs: Iterable[object]) -> list[int]:
    """Task ids from ``12``, ``"12"`` or ``"#12"``, without repeats, in the order given."""
    ids: list[int] = []
    for ref in refs:
        try:
            if isinstance(ref, bool):  # True is an int to Python, not a task number
                raise ValueError
            ids.append(ref if isinstance(ref, int) else int(str(ref).strip().lstrip("#")))
        except ValueError as exc:
            raise InvalidInput(
                f"{ref!r} is not a task number.",
                hint="Give dependencies as task numbers, e.g. #12.",
            ) from exc
    return list(dict.fromkeys(ids))


def clean_timezone(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSchedule(
            "The time zone is empty.",
            hint="Use an IANA name such as 'Europe/Berlin', 'America/New_York' or 'UTC'.",
        )
    return check_timezone(value.strip())


def clean_due(value: object, timezone: str) -> datetime | None:
    """An aware UTC instant from an aware/naive datetime or an ISO 8601 string.

    Naive values are wall-clock time in ``timezone`` (the task's zone). A time
    that does not exist there (a DST gap) is read with the offset before the
    gap, i.e. it moves forward by the gap's length, as Kairos' DST policy says.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            # 3.11's fromisoformat reads ISO 8601 including 'Z' and week dates.
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is None or not text:
            raise InvalidInput(
                f"The due time {value!r} is not a date and time Kairos understands.",
                hint="Write it in ISO 8601, e.g. '2026-03-05T17:00' or '2026-03-05T17:00+01:00'.",
            )
        value = parsed
    if not isinstance(value, datetime):
        raise InvalidInput(
            f"The due time must be a date and time, not {type(value).__name__}.",
            hint="Write it in ISO 8601, e.g. '2026-03-05T17:00' or '2026-03-05T17:00+01:00'.",
        )
    check_instant(value, "due time")
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return check_instant(value.astimezone(UTC), "due time")


def clean_schedule(value: object, timezone: str) -> ScheduleSpec | None:
    """A validated ``ScheduleSpec`` from stored/user data; no zone means the task's zone."""
    if value is None:
        return None
    if isinstance(value, BaseModel):  # a spec object already: keep its explicit zone
        explicit = "timezone" in value.model_fields_set
        value = value.model_dump()
        if not explicit:
            value.pop("timezone", None)
    if isinstance(value, Mapping):
        data = dict(value)
        data.setdefault("timezone", timezone)
        if isinstance(data.get("parts"), list):
            # Parts of a mixed schedule share its zone unless they name their own.
            data["parts"] = [
                {"timezone": data["timezone"], **p} if isinstance(p, Mapping) else p
                for p in data["parts"]
            ]
        value = data
    spec = parse_schedule(value)
    check_schedule_range(spec)
    return spec


def check_schedule_range(spec: ScheduleSpec) -> None:
    """Refuse a schedule whose start, end or one-off time lies outside 1970–9000."""
    if isinstance(spec, MixedSchedule):
        for part in spec.parts:
            check_schedule_range(part)
        return
    for name in ("at", "start", "end", "dtstart"):
        value = getattr(spec, name, None)
        if isinstance(value, datetime):
            check_instant(value, f"schedule's {name} time" if name != "at" else "time")


def anchor_schedule(spec: ScheduleSpec, now: datetime) -> ScheduleSpec:
    """Pin a missing interval ``start`` / RRULE ``dtstart`` to ``now``.

    Without a stored anchor, the fire times would be recomputed from whenever
    the engine last looked, drifting on every restart.
    """
    if isinstance(spec, IntervalSchedule) and spec.start is None:
        return spec.model_copy(update={"start": now.astimezone(UTC)})
    if isinstance(spec, RRuleSchedule) and spec.dtstart is None:
        wall = now.astimezone(ZoneInfo(spec.timezone)).replace(second=0, microsecond=0)
        return spec.model_copy(update={"dtstart": wall.replace(tzinfo=None)})
    if isinstance(spec, MixedSchedule):
        parts = [anchor_schedule(part, now) for part in spec.parts]
        return spec.model_copy(update={"parts": parts})
    return spec


def stored_schedule(spec: ScheduleSpec | None) -> dict[str, Any] | None:
    return None if spec is None else dict(dump_schedule(spec))


def raw_fields(
    data: TaskCreate | TaskUpdate | Mapping[str, Any],
    model: type[TaskCreate] | type[TaskUpdate],
) -> tuple[dict[str, Any], set[str]]:
    """The fields a caller gave, as a dict, and which ones were given explicitly."""
    if isinstance(data, TaskCreate | TaskUpdate):
        given = set(data.model_fields_set)
        for name in given - {"title", "description"}:
            check_storable(getattr(data, name), name)
        return {name: getattr(data, name) for name in type(data).model_fields}, given
    if not isinstance(data, Mapping):
        raise InvalidInput(f"Task data must be a mapping, not {type(data).__name__}.")
    for name, value in data.items():
        if name not in {"title", "description"}:  # free text is cleaned, not refused
            check_storable(value, str(name))
    unknown = sorted(set(data) - set(model.model_fields))
    if unknown:
        raise InvalidInput(
            f"Unknown task field(s): {', '.join(unknown)}.",
            hint=f"Known fields: {', '.join(sorted(model.model_fields))}.",
        )
    return dict(data), set(data)


def invalid_fields(exc: ValidationError) -> InvalidInput:
    """A pydantic validation failure as one readable ``InvalidInput``."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'task'}: {err['msg']}" for err in exc.errors()
    )
    return InvalidInput(
        f"Some task fields are not valid ({problems}).",
        hint="Correct those fields and try again.",
    )
