"""Conditions: a check on a probe's result, true or false (pure; no I/O here).

A probe is an action (shell, http, sql) run through the executors; its result
is the exit or HTTP status, the text it printed (stdout, or the response body)
and, for SQL, the rows. A ``Check`` looks at one of:

* ``status`` — the exit or HTTP status compared with ``value`` (default ``== 0``);
* ``number`` — the first number in the output (or the first cell of SQL rows);
* ``json`` — the value at ``path`` (``a.b.0``) of the output parsed as JSON;
* ``regex`` — whether ``pattern`` matches the output.

A condition fires on its edge (false → true), see ``core.events.probes``.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe produced; ``status`` is ``None`` when the probe could not run."""

    status: int | None
    text: str
    data: Mapping[str, Any] | None = None
    error: str | None = None


class Check(BaseModel):
    """One test on a probe's result (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    on: Literal["status", "number", "json", "regex"]
    op: Literal[">", ">=", "<", "<=", "==", "!="] = "=="
    value: float | str | None = None
    path: str | None = None
    pattern: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _complete(self) -> Check:
        if self.on == "regex":
            if not self.pattern:
                raise ValueError("a regex check needs a pattern")
            re.compile(self.pattern)
        elif self.on == "json" and not self.path:
            raise ValueError("a json check needs a path such as 'usage.percent'")
        elif self.on == "number" and not isinstance(self.value, int | float):
            raise ValueError("a number check needs a number to compare with")
        return self

    def holds(self, result: ProbeResult) -> bool:
        """Whether the check is true of ``result`` (a probe that could not run: false)."""
        if self.on == "status":
            if result.status is None:
                return False
            return _OPS[self.op](result.status, 0 if self.value is None else _num(self.value))
        if result.status is None:
            return False
        if self.on == "regex":
            assert self.pattern is not None
            return re.search(self.pattern, result.text) is not None
        found = _first_number(result) if self.on == "number" else _at_path(result.text, self.path)
        if found is None:
            return False
        return _compare(self.op, found, self.value)


def _num(value: float | str) -> float:
    return float(value)


def _compare(op: str, found: Any, value: Any) -> bool:
    try:
        return _OPS[op](float(found), float(value))
    except (TypeError, ValueError):
        if op in ("==", "!="):
            return _OPS[op](str(found), str(value))
        return False


def _first_number(result: ProbeResult) -> float | None:
    rows = (result.data or {}).get("rows")
    if isinstance(rows, list) and rows and isinstance(rows[0], list | tuple) and rows[0]:
        try:
            return float(rows[0][0])
        except (TypeError, ValueError):
            return None
    match = _NUMBER.search(result.text)
    return float(match.group()) if match else None


def _at_path(text: str, path: str | None) -> Any:
    try:
        value: Any = json.loads(text)
    except ValueError:
        return None
    for part in (path or "").removeprefix("$.").split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif (
            isinstance(value, list)
            and part.lstrip("-").isdigit()
            and -len(value) <= int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            return None
    return value
