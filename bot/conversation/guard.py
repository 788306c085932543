"""What a chat surface says when the conversation fails: the error's own words, or an apology.

A Kairos error (bad input, not found, not allowed) becomes a private error
reply that says what was wrong and what to do; anything else is a bug, logged
with its traceback and answered with an apology — its details never go into
chat (they may hold data the reader should not see).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from core.errors import KairosError
from core.messages import Reply, ReplyKind

log = logging.getLogger(__name__)

APOLOGY = "Something went wrong on my side; please try again."


async def guarded(work: Awaitable[list[Reply]], *, what: str) -> list[Reply]:
    """Await ``work`` (the conversation's replies); a failure becomes one private reply."""
    try:
        return await work
    except KairosError as exc:
        return [Reply(text=exc.user_message(), kind=ReplyKind.ERROR, ephemeral=True)]
    except Exception:
        log.exception("conversation failed for %s", what)
        return [Reply(text=APOLOGY, kind=ReplyKind.ERROR, ephemeral=True)]
