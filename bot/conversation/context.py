"""Where a conversation happens: the key of a place (a DM, a channel, a thread).

What is remembered about a person in a place lives in the database
(``core.services.conversation.ConversationMemory``), never in process memory.
"""

from __future__ import annotations

from core.services.conversation import ConversationMemory

#: Kept for callers that import the memory from here.
ConversationContext = ConversationMemory


def place(
    *, user_ref: str | None, channel_ref: str | None, thread_ref: str | None, direct: bool
) -> str:
    """The key of a conversation place: a person's DM, a channel, or a thread in one."""
    if direct or channel_ref is None:
        return f"dm:{user_ref or ''}"
    return f"{channel_ref}:{thread_ref}" if thread_ref else channel_ref
