"""Trigger rules: when a task whose prerequisites ran may run, and what else becomes of it.

A rule looks at the latest run of each prerequisite in one workflow pass and
answers *wait*, *run*, or *skip*/*block* with the reason written into the
task's run ("blocked: 'build' failed in run 41"). ``always`` differs from
``all_done`` in one way: ``all_done`` needs every prerequisite to have executed
(completed or failed), so a blocked or skipped prerequisite passes that on;
``always`` runs once they are all settled, whatever became of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.enums import RunStatus
from core.errors import InvalidInput


class TriggerRule(StrEnum):
    ALL_SUCCESS = "all_success"
    ALL_DONE = "all_done"
    ALL_FAILED = "all_failed"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    NONE_FAILED = "none_failed"
    ALWAYS = "always"


class FailureMode(StrEnum):
    """What a failed prerequisite makes of the tasks after it."""

    BLOCK = "block"  # ``blocked``: waits for a rerun, a clear or "run it anyway"
    SKIP = "skip"  # ``skipped``: this pass will not run it


class Verdict(StrEnum):
    WAIT = "wait"
    RUN = "run"
    SKIP = "skip"
    BLOCK = "block"


_SUCCEEDED = frozenset({RunStatus.COMPLETED})
_FAILED = frozenset({RunStatus.FAILED, RunStatus.CANCELLED})
_NOT_RUN = frozenset({RunStatus.SKIPPED, RunStatus.BLOCKED})


@dataclass(frozen=True, slots=True)
class Prerequisite:
    """The latest run of one prerequisite in this pass (``status`` None: none yet)."""

    title: str
    status: RunStatus | None = None
    run_id: int | None = None
    reason: str | None = None  # why a skipped/blocked prerequisite did not run

    @property
    def settled(self) -> bool:
        return self.status is not None and (
            self.status in _SUCCEEDED or self.status in _FAILED or self.status in _NOT_RUN
        )


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str | None = None

    @property
    def status(self) -> RunStatus:
        """The status a run written for this decision gets."""
        return {
            Verdict.RUN: RunStatus.PENDING,
            Verdict.SKIP: RunStatus.SKIPPED,
            Verdict.BLOCK: RunStatus.BLOCKED,
        }[self.verdict]


WAIT = Decision(Verdict.WAIT)
RUN = Decision(Verdict.RUN)


def parse_rule(text: str) -> TriggerRule:
    """A rule from its name ("all_success", "one failed", "none-failed")."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return TriggerRule(key)
    except ValueError:
        names = ", ".join(r.value for r in TriggerRule)
        raise InvalidInput(
            f"{text!r} is not a trigger rule.", hint=f"Use one of: {names}."
        ) from None


def _failure(p: Prerequisite, mode: FailureMode) -> Decision:
    verdict = Verdict.BLOCK if mode is FailureMode.BLOCK else Verdict.SKIP
    what = "was cancelled" if p.status is RunStatus.CANCELLED else "failed"
    status = Decision(verdict).status
    return Decision(verdict, f"{status}: '{p.title}' {what} in run {p.run_id}")


def _passed_on(p: Prerequisite) -> Decision:
    """A prerequisite that did not run passes its status and root cause on."""
    verdict = Verdict.BLOCK if p.status is RunStatus.BLOCKED else Verdict.SKIP
    cause = (p.reason or "").partition(": ")[2] or f"'{p.title}' did not run"
    cause = cause.split(" (via ")[0]
    return Decision(verdict, f"{p.status}: {cause} (via '{p.title}')")


def _not_met(rule: TriggerRule, why: str) -> Decision:
    return Decision(Verdict.SKIP, f"skipped: {why} (rule {rule.value})")


def decide(
    rule: TriggerRule, prerequisites: Sequence[Prerequisite], *, on_failure: FailureMode
) -> Decision:
    """What becomes of a task with these prerequisites under ``rule``."""
    if not prerequisites:
        return RUN
    succeeded = [p for p in prerequisites if p.status in _SUCCEEDED]
    failed = [p for p in prerequisites if p.status in _FAILED]
    not_run = [p for p in prerequisites if p.status in _NOT_RUN]
    open_ = any(not p.settled for p in prerequisites)
    match rule:
        case TriggerRule.ALL_SUCCESS:
            if failed:
                return _failure(failed[0], on_failure)
            if not_run:
                return _passed_on(not_run[0])
            return WAIT if open_ else RUN
        case TriggerRule.ALL_DONE:
            if open_:
                return WAIT
            return _passed_on(not_run[0]) if not_run else RUN
        case TriggerRule.ALL_FAILED:
            if succeeded:
                return _not_met(rule, f"'{succeeded[0].title}' succeeded")
            if not_run:
                return _passed_on(not_run[0])
            return WAIT if open_ else RUN
        case TriggerRule.ONE_SUCCESS:
            if succeeded:
                return RUN
            if open_:
                return WAIT
            return _failure(failed[0], on_failure) if failed else _passed_on(not_run[0])
        case TriggerRule.ONE_FAILED:
            if failed:
                return RUN
            if open_:
                return WAIT
            return _not_met(rule, "no prerequisite failed")
        case TriggerRule.NONE_FAILED:
            if failed:
                return _failure(failed[0], on_failure)
            blocked = [p for p in not_run if p.status is RunStatus.BLOCKED]
            if blocked:
                return _passed_on(blocked[0])
            return WAIT if open_ else RUN
        case TriggerRule.ALWAYS:
            return WAIT if open_ else RUN
