"""What a fake Slack keeps of the messages posted to it: ``conversations.history``,
``conversations.replies`` and message metadata, as Slack answers them.

Shared by the benchmark's fake Web API (``bench/slack_api.py``) and the tests'
(``tests/slack/fake_slack.py``). Slack stores a message when it accepts the
``chat.postMessage`` request — before its answer reaches the client — so a
message is recorded on arrival. ``metadata`` is returned only with
``include_all_metadata``; thread replies appear in the channel's history only
when broadcast (``reply_broadcast``); both lists are newest first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

_TRUE = {"1", "true", "True", True}


class ChannelHistory:
    """Messages per channel, in the order they arrived."""

    def __init__(self) -> None:
        self._channels: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)

    def add(self, body: dict[str, Any], ts: str) -> None:
        """Record a ``chat.postMessage`` body under its ``ts``."""
        metadata = body.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message: dict[str, Any] = {"type": "message", "ts": ts, "text": body.get("text") or ""}
        if body.get("thread_ts"):
            message["thread_ts"] = str(body["thread_ts"])
            message["broadcast"] = body.get("reply_broadcast") in _TRUE
        if isinstance(metadata, dict):
            message["metadata"] = metadata
        self._channels[str(body.get("channel"))].append(message)

    def history(self, body: dict[str, Any]) -> dict[str, Any]:
        """``conversations.history``: the channel's top-level (and broadcast) messages."""
        shown = [
            m
            for m in self._channels.get(str(body.get("channel")), [])
            if "thread_ts" not in m or m["broadcast"]
        ]
        return self._page(shown, body)

    def replies(self, body: dict[str, Any]) -> dict[str, Any]:
        """``conversations.replies``: a thread's replies (its parent, when known, first)."""
        ts = str(body.get("ts"))
        messages = self._channels.get(str(body.get("channel")), [])
        thread = [m for m in messages if m["ts"] == ts or m.get("thread_ts") == ts]
        page = self._page(thread, body)
        page["messages"].reverse()  # replies come oldest first
        return page

    @staticmethod
    def _page(messages: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
        limit = int(body.get("limit") or 100)
        with_metadata = body.get("include_all_metadata") in _TRUE
        newest = list(reversed(messages))[:limit]
        shown = []
        for m in newest:
            out = {k: v for k, v in m.items() if k != "broadcast"}
            if not with_metadata:
                out.pop("metadata", None)
            shown.append(out)
        return {"ok": True, "messages": shown, "has_more": len(messages) > limit}
