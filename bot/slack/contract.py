"""Everything Slack must be told about Kairos, in one place.

The command, the shortcut, the events, the block action and view ids, and the
OAuth scope each Web API method needs. ``manifest.yml`` is checked against this
module by ``tests/slack/test_manifest.py``: what the code registers must be
declared, and every declared scope must be needed by a call the code makes.
"""

from __future__ import annotations

import re
from typing import Final

COMMAND: Final = "/kairos"

#: callback_id of the message shortcut "Create task from message".
SHORTCUT_CREATE_FROM_MESSAGE: Final = "kairos_create_from_message"

#: callback_ids of the modals (view_submission).
VIEW_EDIT_TASK: Final = "kairos_edit_task"
VIEW_CREATE_TASK: Final = "kairos_create_task"

#: Button actions understood by the conversation layer (``Conversation.press``).
ACTION_DONE: Final = "task.done"
ACTION_SNOOZE: Final = "task.snooze"
ACTION_RUN: Final = "task.run"
ACTION_EDIT: Final = "task.edit"
TASK_ACTIONS: Final = (ACTION_DONE, ACTION_SNOOZE, ACTION_RUN, ACTION_EDIT)
#: Buttons of particular answers: Reopen (a fired one-off, a done task), Restore (a
#: deleted one), a task picked from "which one?", approve/cancel of a proposal.
ANSWER_ACTIONS: Final = ("task.reopen", "task.restore", "task.pick", "task.approve", "task.cancel")
#: "Show log" on a job's result post (``bot.conversation.history``).
ACTION_RUN_LOG: Final = "run.log"

#: Slack wants action_ids unique inside a block; three Snooze buttons share one
#: action, so the rendered id is ``<action>#<n>`` and this pattern matches them all.
ACTION_ID_PATTERN: Final = re.compile(
    r"^(task\.(done|snooze|run|edit|reopen|restore|pick|approve|cancel)|run\.log)(#\d+)?$"
)

#: Bot events the app subscribes to (``settings.event_subscriptions.bot_events``).
BOT_EVENTS: Final = (
    "app_home_opened",
    "app_mention",
    "message.im",
    "message.channels",
    "message.groups",
    "app_uninstalled",
    "tokens_revoked",
)

#: The scope each Web API method Kairos calls needs (bot token). A scope in the
#: manifest that no method here needs is one too many.
METHOD_SCOPES: Final[dict[str, tuple[str, ...]]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "conversations.open": ("im:write",),
    # A retry after a crash looks for the reminder it may have posted already;
    # AI jobs read the channels their prompt names (bot.slack.history).
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history"),
    "users.info": ("users:read",),
    "views.open": (),
    "views.publish": (),
    "oauth.v2.access": (),
    # files_upload_v2 = files.getUploadURLExternal + files.completeUploadExternal
    "files.upload_v2": ("files:write",),
    "conversations.list": ("channels:read", "groups:read"),
}

#: Scopes needed by how Kairos is reached rather than by a method it calls:
#: the slash command, the shortcut, and the events above.
SURFACE_SCOPES: Final[dict[str, str]] = {
    "commands": "the /kairos command and the message shortcut",
    "app_mentions:read": "app_mention events",
    "im:history": "message.im events (DMs to the bot)",
    "channels:history": "message.channels events (replies in task threads)",
    "groups:history": "message.groups events (task threads in private channels)",
}


def needed_scopes() -> set[str]:
    """Every scope some call or surface of Kairos needs."""
    scopes = {scope for needed in METHOD_SCOPES.values() for scope in needed}
    return scopes | set(SURFACE_SCOPES)
