"""``manifest.yml`` against the code: everything registered is declared, and
every declared scope is needed by a Web API call or surface the code uses."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.slack import contract
from bot.slack.app import Listeners
from bot.slack.blocks import card_buttons, render
from bot.slack.home import HomeData, home_view
from bot.slack.modals import TaskForm, task_modal
from core.messages import Reply, ReplyKind, TaskLine

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())

#: Which bot event subscription delivers each bolt ``event(...)`` type.
EVENT_SUBSCRIPTIONS = {
    "message": {"message.im", "message.channels", "message.groups"},
    "app_mention": {"app_mention"},
    "app_home_opened": {"app_home_opened"},
    "app_uninstalled": {"app_uninstalled"},
    "tokens_revoked": {"tokens_revoked"},
}
#: The scope each bot event subscription needs (Slack's events reference).
EVENT_SCOPES = {
    "message.im": "im:history",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "app_mention": "app_mentions:read",
}


class RecordingApp:
    """Stands in for ``AsyncApp`` to see what ``Listeners.register`` registers."""

    def __init__(self) -> None:
        self.seen: dict[str, list[Any]] = {}

    def __getattr__(self, kind: str) -> Callable[..., Any]:
        def register(key: Any) -> Any:
            self.seen.setdefault(kind, []).append(key)
            return lambda fn: fn

        return register


def registered() -> dict[str, list[Any]]:
    app = RecordingApp()
    # register() only binds methods and reads contract constants: no dependencies needed.
    Listeners.__new__(Listeners).register(app)  # type: ignore[arg-type]
    return app.seen


def declared_scopes() -> set[str]:
    return set(MANIFEST["oauth_config"]["scopes"]["bot"])


def test_commands_shortcuts_and_events_are_declared() -> None:
    seen = registered()
    commands = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert set(seen["command"]) <= commands and contract.COMMAND in commands
    shortcuts = {
        s["callback_id"] for s in MANIFEST["features"]["shortcuts"] if s["type"] == "message"
    }
    assert set(seen["shortcut"]) <= shortcuts
    bot_events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    for event in seen["event"]:
        assert EVENT_SUBSCRIPTIONS[event] <= bot_events, event
    assert bot_events == set(contract.BOT_EVENTS)
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["features"]["app_home"]["messages_tab_enabled"] is True


def test_every_rendered_action_and_view_is_handled_and_interactivity_is_on() -> None:
    seen = registered()
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    patterns = seen["action"]
    surfaces = [
        render(Reply(text="x", kind=ReplyKind.CONFIRMATION, task_id=1)).blocks,
        render(Reply(text="x", kind=ReplyKind.REMINDER, task_id=1, buttons=card_buttons(1))).blocks,
        home_view(HomeData(tasks=(TaskLine(1, "t"),)))["blocks"],
    ]
    action_ids = {
        e["action_id"]
        for blocks in surfaces
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    }
    assert action_ids
    for action_id in action_ids:
        assert any(p.match(action_id) for p in patterns), action_id
    views = {task_modal(TaskForm(task_id=1))["callback_id"], task_modal(TaskForm())["callback_id"]}
    assert views == set(seen["view"])


def _called_methods() -> set[str]:
    """Web API methods called anywhere in bot/slack (``client.chat_postMessage(`` …)."""
    source = "\n".join(p.read_text() for p in (ROOT / "bot" / "slack").glob("*.py"))
    calls = re.findall(
        r"\.((?:chat|users|views|conversations|auth|oauth|apps|files)_\w+)\(", source
    )
    return {name.replace("_", ".", 1) for name in calls}


def test_every_method_called_is_mapped_and_its_scopes_declared() -> None:
    called = _called_methods()
    assert {
        "chat.postMessage",
        "chat.update",
        "views.open",
        "views.publish",
        "users.info",
        "conversations.open",
        "chat.postEphemeral",
    } <= called
    assert called <= set(contract.METHOD_SCOPES), called - set(contract.METHOD_SCOPES)
    for method in called:
        assert set(contract.METHOD_SCOPES[method]) <= declared_scopes(), method


def test_every_declared_scope_is_needed() -> None:
    needed_by_methods = {s for m in _called_methods() for s in contract.METHOD_SCOPES[m]}
    needed_by_events = {EVENT_SCOPES[e] for e in contract.BOT_EVENTS if e in EVENT_SCOPES}
    needed = needed_by_methods | needed_by_events | {"commands"}
    assert declared_scopes() == needed
    assert declared_scopes() == contract.needed_scopes()
