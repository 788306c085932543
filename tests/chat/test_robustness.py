"""Whatever people type, the conversation answers and stays up (property test)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.messages import ReplyKind

from .conftest import Chat

_WORDS = st.sampled_from(
    [
        "remind",
        "me",
        "every",
        "at",
        "9",
        "tomorrow",
        "done",
        "#eng",
        "@bob",
        "task",
        "it",
        "snooze",
        "1h",
        "delete",
        "run",
        "`ls`",
        "https://x.test/a",
        "after",
        "'QA'",
        "urgent",
        "Friday",
        "next",
        "week",
        "in",
        "3",
        "days",
        "list",
        "why",
        "fail",
        "🦄",
        "\x00",
        "日本",
    ]
)
_TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(_WORDS, max_size=14).map(" ".join),
    st.just(""),
    st.just("x" * 100_000),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=_TEXT)
async def test_any_message_gets_a_reply_and_never_crashes(chat: Chat, text: str) -> None:
    replies = await chat.say(text)
    assert replies, "every message gets an answer"
    for reply in replies:
        assert reply.text.strip()
        assert "Traceback" not in reply.text
        assert reply.kind in set(ReplyKind)
