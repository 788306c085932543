"""RetryPolicy: back-off maths, jitter determinism, which errors retry."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.retry import RetryPolicy


def test_defaults() -> None:
    policy = RetryPolicy()
    assert (
        policy.max_attempts,
        policy.initial_delay_s,
        policy.backoff,
        policy.max_delay_s,
        policy.jitter,
        policy.retry_on,
    ) == (3, 10.0, 2.0, 3600.0, 0.1, "all")


def test_exponential_backoff_without_jitter_is_capped() -> None:
    policy = RetryPolicy(jitter=0, max_attempts=20)
    delays = [policy.delay_for(attempt, random.Random(1)) for attempt in range(1, 11)]
    assert delays == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]


def test_huge_attempt_numbers_do_not_overflow() -> None:
    assert RetryPolicy(jitter=0).delay_for(10_000, random.Random(0)) == 3600


def test_jitter_is_deterministic_for_a_seeded_rng_and_bounded() -> None:
    policy = RetryPolicy(jitter=0.5)
    first = [policy.delay_for(2, random.Random(42)) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    delays = {policy.delay_for(2, random.Random(seed)) for seed in range(200)}
    assert len(delays) > 100
    assert all(10 <= d <= 30 for d in delays)


def test_attempt_is_one_based() -> None:
    with pytest.raises(ValueError, match="1-based"):
        RetryPolicy().delay_for(0, random.Random(0))


def test_should_retry_counts_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(1, "timeout")
    assert policy.should_retry(2, "timeout")
    assert not policy.should_retry(3, "timeout")


def test_non_retryable_wins_and_kinds_are_case_insensitive() -> None:
    policy = RetryPolicy(retry_on=["Timeout", "http_5xx"], non_retryable=["http_5xx"])
    assert policy.retry_on == ("timeout", "http_5xx")
    assert policy.should_retry(1, "TIMEOUT")
    assert not policy.should_retry(1, "http_5xx")
    assert not policy.should_retry(1, "crash")
    assert not RetryPolicy().should_retry(1, "invalid_input")
    assert RetryPolicy().should_retry(1, "anything_else")


def test_frozen_hashable_and_stored_as_json() -> None:
    policy = RetryPolicy(retry_on=["timeout"])
    assert hash(policy) == hash(RetryPolicy.model_validate(policy.model_dump(mode="json")))
    with pytest.raises(ValidationError):
        policy.max_attempts = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "bad",
    [
        {"jitter": 1.5},
        {"max_attempts": 0},
        {"backoff": 0.5},
        {"initial_delay_s": -1},
        {"initial_delay_s": 100, "max_delay_s": 10},
        {"unknown": 1},
    ],
)
def test_bad_policies_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy.model_validate(bad)


@settings(max_examples=200, deadline=None)
@given(
    initial=st.floats(0, 1000),
    backoff=st.floats(1, 10),
    extra=st.floats(0, 10_000),
    jitter=st.floats(0, 1),
    attempt=st.integers(1, 500),
    seed=st.integers(0, 2**32),
)
def test_delay_is_always_within_zero_and_cap(
    initial: float, backoff: float, extra: float, jitter: float, attempt: int, seed: int
) -> None:
    policy = RetryPolicy(
        initial_delay_s=initial, backoff=backoff, max_delay_s=initial + extra, jitter=jitter
    )
    delay = policy.delay_for(attempt, random.Random(seed))
    assert 0 <= delay <= policy.max_delay_s
    assert delay == policy.delay_for(attempt, random.Random(seed))
