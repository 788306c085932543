"""Every trigger rule against every mix of prerequisite outcomes (pure)."""

from __future__ import annotations

import pytest

from core.enums import RunStatus
from core.errors import InvalidInput
from core.workflows.rules import (
    FailureMode,
    Prerequisite,
    TriggerRule,
    Verdict,
    decide,
    parse_rule,
)

OK = RunStatus.COMPLETED
BAD = RunStatus.FAILED
SKIP = RunStatus.SKIPPED
BLOCK = RunStatus.BLOCKED
OPEN = None  # not run yet in this pass


def prereqs(*statuses: RunStatus | None) -> list[Prerequisite]:
    out = []
    for i, status in enumerate(statuses, start=1):
        reason = None
        if status in (SKIP, BLOCK):
            reason = f"{status}: 'root' failed in run 7"
        out.append(Prerequisite(f"p{i}", status, None if status is None else 40 + i, reason))
    return out


# (rule, prerequisite statuses, expected verdict)
CASES = [
    # all_success: everything succeeded; a failure blocks at once; else wait
    (TriggerRule.ALL_SUCCESS, (OK, OK), Verdict.RUN),
    (TriggerRule.ALL_SUCCESS, (OK, OPEN), Verdict.WAIT),
    (TriggerRule.ALL_SUCCESS, (BAD, OPEN), Verdict.BLOCK),
    (TriggerRule.ALL_SUCCESS, (OK, SKIP), Verdict.SKIP),
    (TriggerRule.ALL_SUCCESS, (OK, BLOCK), Verdict.BLOCK),
    # all_done: every prerequisite executed, whatever the outcome
    (TriggerRule.ALL_DONE, (OK, BAD), Verdict.RUN),
    (TriggerRule.ALL_DONE, (BAD, OPEN), Verdict.WAIT),
    (TriggerRule.ALL_DONE, (OK, BLOCK), Verdict.BLOCK),
    (TriggerRule.ALL_DONE, (SKIP, OK), Verdict.SKIP),
    # all_failed
    (TriggerRule.ALL_FAILED, (BAD, BAD), Verdict.RUN),
    (TriggerRule.ALL_FAILED, (BAD, OPEN), Verdict.WAIT),
    (TriggerRule.ALL_FAILED, (BAD, OK), Verdict.SKIP),
    (TriggerRule.ALL_FAILED, (BAD, BLOCK), Verdict.BLOCK),
    # one_success: the first success releases it, even with others still open
    (TriggerRule.ONE_SUCCESS, (OK, OPEN), Verdict.RUN),
    (TriggerRule.ONE_SUCCESS, (BAD, OPEN), Verdict.WAIT),
    (TriggerRule.ONE_SUCCESS, (BAD, BAD), Verdict.BLOCK),
    (TriggerRule.ONE_SUCCESS, (SKIP, SKIP), Verdict.SKIP),
    # one_failed: the first failure releases it; none failing skips it
    (TriggerRule.ONE_FAILED, (BAD, OPEN), Verdict.RUN),
    (TriggerRule.ONE_FAILED, (OK, OPEN), Verdict.WAIT),
    (TriggerRule.ONE_FAILED, (OK, OK), Verdict.SKIP),
    # none_failed: successes and skips are fine, a failure or a block is not
    (TriggerRule.NONE_FAILED, (OK, SKIP), Verdict.RUN),
    (TriggerRule.NONE_FAILED, (OK, OPEN), Verdict.WAIT),
    (TriggerRule.NONE_FAILED, (OK, BAD), Verdict.BLOCK),
    (TriggerRule.NONE_FAILED, (OK, BLOCK), Verdict.BLOCK),
    # always: once everything is settled, whatever became of it
    (TriggerRule.ALWAYS, (BAD, BLOCK), Verdict.RUN),
    (TriggerRule.ALWAYS, (SKIP, OPEN), Verdict.WAIT),
    (TriggerRule.ALWAYS, (OK, OK), Verdict.RUN),
]


@pytest.mark.parametrize(("rule", "statuses", "verdict"), CASES)
def test_rule(rule: TriggerRule, statuses: tuple[RunStatus | None, ...], verdict: Verdict) -> None:
    assert decide(rule, prereqs(*statuses), on_failure=FailureMode.BLOCK).verdict is verdict


def test_every_rule_is_covered() -> None:
    assert {rule for rule, _, _ in CASES} == set(TriggerRule)


def test_a_task_without_prerequisites_runs() -> None:
    for rule in TriggerRule:
        assert decide(rule, [], on_failure=FailureMode.BLOCK).verdict is Verdict.RUN


def test_a_failure_names_the_step_and_run() -> None:
    decision = decide(
        TriggerRule.ALL_SUCCESS,
        [Prerequisite("build", BAD, 41)],
        on_failure=FailureMode.SKIP,
    )
    assert decision.verdict is Verdict.SKIP
    assert decision.status is RunStatus.SKIPPED
    assert decision.reason == "skipped: 'build' failed in run 41"
    blocked = decide(
        TriggerRule.ALL_SUCCESS, [Prerequisite("build", BAD, 41)], on_failure=FailureMode.BLOCK
    )
    assert blocked.reason == "blocked: 'build' failed in run 41"


def test_a_passed_on_block_keeps_the_root_cause_and_says_via_which_step() -> None:
    upstream = Prerequisite("test", BLOCK, 50, "blocked: 'build' failed in run 41 (via 'lint')")
    decision = decide(TriggerRule.ALL_SUCCESS, [upstream], on_failure=FailureMode.BLOCK)
    assert decision.reason == "blocked: 'build' failed in run 41 (via 'test')"


def test_a_cancelled_prerequisite_counts_as_failed() -> None:
    decision = decide(
        TriggerRule.ALL_SUCCESS,
        [Prerequisite("deploy", RunStatus.CANCELLED, 9)],
        on_failure=FailureMode.BLOCK,
    )
    assert decision.reason == "blocked: 'deploy' was cancelled in run 9"


def test_rule_names_are_read_leniently_and_unknown_ones_refused() -> None:
    assert parse_rule("one success") is TriggerRule.ONE_SUCCESS
    assert parse_rule("None-Failed") is TriggerRule.NONE_FAILED
    with pytest.raises(InvalidInput, match="not a trigger rule"):
        parse_rule("sometimes")
