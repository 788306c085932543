"""The task modal (edit, and create from a message): views and submissions.

Pure functions: ``task_modal(form)`` builds the view, ``read_submission(view)``
reads what the person typed back into a ``TaskForm``. Validation and saving
happen in ``bot.slack.forms``; its errors come back keyed by the block ids here
and are shown in the modal (``response_action: errors``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.slack import contract

PRIORITIES = ("low", "normal", "high", "urgent")

#: Block ids of the modal's inputs; validation errors are keyed by these.
TITLE, DUE, SCHEDULE, ASSIGNEES, PRIORITY = "title", "due", "schedule", "assignees", "priority"
_VALUE = "value"  # the action_id of every input element


@dataclass(frozen=True, slots=True)
class TaskForm:
    """The modal's fields. ``due`` and ``schedule`` are text as a person writes it."""

    title: str = ""
    due: str = ""
    schedule: str = ""
    assignees: tuple[str, ...] = ()
    priority: str = "normal"
    task_id: int | None = None
    #: Where the card of a task created from a message goes.
    channel: str | None = None
    #: The due/schedule texts the modal first showed (``due``, ``schedule``).
    extra: dict[str, str] = field(default_factory=dict)


def _text_input(
    block_id: str, label: str, value: str, *, optional: bool, hint: str, multiline: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": _VALUE,
        "placeholder": {"type": "plain_text", "text": hint},
    }
    if multiline:
        element["multiline"] = True
    if value:
        element["initial_value"] = value
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _option(priority: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": priority.capitalize()}, "value": priority}


def task_modal(form: TaskForm) -> dict[str, Any]:
    """The modal view for ``form`` (edit when it has a task id, else create)."""
    editing = form.task_id is not None
    users: dict[str, Any] = {"type": "multi_users_select", "action_id": _VALUE}
    if form.assignees:
        users["initial_users"] = list(form.assignees)
    priority = form.priority if form.priority in PRIORITIES else "normal"
    metadata: dict[str, Any] = {"task_id": form.task_id, "channel": form.channel}
    if form.extra:
        # What the fields first showed: a field left as it was is left alone.
        metadata["shown"] = form.extra
    return {
        "type": "modal",
        "callback_id": contract.VIEW_EDIT_TASK if editing else contract.VIEW_CREATE_TASK,
        "title": {
            "type": "plain_text",
            "text": f"Edit task #{form.task_id}" if editing else "New task",
        },
        "submit": {"type": "plain_text", "text": "Save" if editing else "Create"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": [
            _text_input(TITLE, "Title", form.title[:3000], optional=False, hint="What needs doing"),
            _text_input(DUE, "Due", form.due, optional=True, hint="e.g. tomorrow 17:00"),
            _text_input(
                SCHEDULE, "Repeat", form.schedule, optional=True, hint="e.g. every weekday at 9:00"
            ),
            {
                "type": "input",
                "block_id": ASSIGNEES,
                "optional": True,
                "label": {"type": "plain_text", "text": "Assignees"},
                "element": users,
            },
            {
                "type": "input",
                "block_id": PRIORITY,
                "label": {"type": "plain_text", "text": "Priority"},
                "element": {
                    "type": "static_select",
                    "action_id": _VALUE,
                    "options": [_option(p) for p in PRIORITIES],
                    "initial_option": _option(priority),
                },
            },
        ],
    }


def _value(values: Mapping[str, Any], block_id: str) -> Any:
    return (values.get(block_id) or {}).get(_VALUE) or {}


def read_submission(view: Mapping[str, Any]) -> TaskForm:
    """What the person submitted, back as a ``TaskForm``."""
    values = (view.get("state") or {}).get("values") or {}
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        metadata = {}
    selected = _value(values, PRIORITY).get("selected_option") or {}
    task_id = metadata.get("task_id")
    return TaskForm(
        title=(_value(values, TITLE).get("value") or "").strip(),
        due=(_value(values, DUE).get("value") or "").strip(),
        schedule=(_value(values, SCHEDULE).get("value") or "").strip(),
        assignees=tuple(_value(values, ASSIGNEES).get("selected_users") or ()),
        priority=str(selected.get("value") or "normal"),
        task_id=int(task_id) if task_id is not None else None,
        channel=metadata.get("channel"),
        extra={str(k): str(v) for k, v in (metadata.get("shown") or {}).items()},
    )


def errors_response(errors: Mapping[str, str]) -> dict[str, Any]:
    """The ack body that shows ``errors`` under the modal's inputs."""
    return {"response_action": "errors", "errors": dict(errors)}
