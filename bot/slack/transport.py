"""Slack's HTTP edge: requests signed, capped and shaped before bolt sees them.

bolt parses a request's body in ``AsyncBoltRequest.__init__`` — before its own
signature check — and answers 500 with a traceback for anything it cannot
parse or walk. Here the generic ``bot.web.inbound.Gate`` verifies Slack's
``v0`` signature on the raw bytes first, then the body is parsed the way bolt
parses it and checked for the shape Kairos's listeners read (``check_shape``).
Only then is it dispatched; bolt's own verification stays on as a second lock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from bot.slack.inbound import team_of
from bot.web.inbound import (
    MAX_BODY_BYTES,
    Gate,
    Refused,
    hex_digest,
    hmac_sha256_hex,
    same_digest,
    signed_timestamp,
)

#: Interactive payload types Kairos knows; others are refused as malformed.
INTERACTIVE = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action"}
)
#: Outer types of Events API requests (bolt answers url_verification itself).
EVENTS = frozenset({"event_callback", "url_verification", "app_rate_limited"})


class SlackVerifier:
    """Slack's request signing (``v0:{timestamp}:{body}``, HMAC-SHA256) on raw bytes."""

    def __init__(self, signing_secret: str) -> None:
        self._secret = signing_secret.encode()

    def check_headers(self, headers: Headers, now: float) -> None:
        signed_timestamp(headers.get("x-slack-request-timestamp"), now)
        hex_digest(headers.get("x-slack-signature"), prefix="v0=")

    def check_body(self, headers: Headers, body: bytes) -> None:
        timestamp = headers["x-slack-request-timestamp"].encode()
        given = hex_digest(headers.get("x-slack-signature"), prefix="v0=")
        same_digest(hmac_sha256_hex(self._secret, b"v0:" + timestamp + b":" + body), given)


def _is(value: Any, kind: type | tuple[type, ...], *, optional: bool = True) -> bool:
    return (optional and value is None) or isinstance(value, kind)


def _object(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise Refused(400, f"'{key}' is not an object")
    return value


def _strings(body: Mapping[str, Any], *keys: str, required: bool = False) -> None:
    for key in keys:
        if not _is(body.get(key), str, optional=not required):
            raise Refused(400, f"'{key}' is {'missing or ' if required else ''}not a string")


def _objects(body: Mapping[str, Any], *keys: str) -> None:
    for key in keys:
        if not _is(body.get(key), Mapping):
            raise Refused(400, f"'{key}' is not an object")


def check_shape(body: object) -> None:
    """Refuse (400) a parsed body whose shape Kairos's listeners could trip over."""
    if not isinstance(body, Mapping):
        raise Refused(400, "body is not an object")
    kind = body.get("type")
    if not _is(kind, str):
        raise Refused(400, "'type' is not a string")
    if kind == "url_verification":
        _strings(body, "challenge", required=True)
        return
    if "ssl_check" in body:
        return
    if "command" in body:
        _strings(body, "command", "team_id", "user_id", required=True)
        _strings(body, "text", "channel_id", "channel_name", "user_name", "response_url")
    elif kind in EVENTS:
        _check_event(body)
    elif kind in INTERACTIVE:
        _check_interactive(body)
    else:
        raise Refused(400, "not a Slack event, command or interaction")
    try:
        team_of(body)
    except (ValueError, TypeError, AttributeError):
        raise Refused(400, "names no workspace") from None


def _check_event(body: Mapping[str, Any]) -> None:
    _strings(body, "team_id", "event_id")
    if body.get("type") != "event_callback":
        return
    event = _object(body, "event")
    _strings(event, "type", required=True)
    _strings(event, "user", "text", "channel", "channel_type", "ts", "thread_ts", "subtype")
    _strings(event, "parent_user_id", "bot_id", "team", "tab")
    _objects(event, "message", "previous_message", "bot_profile")
    # Messages without a user are ignored as noise; the App Home needs its viewer.
    if event["type"] == "app_home_opened" and event.get("user") is None:
        raise Refused(400, "app_home_opened without a user")


def _check_interactive(body: Mapping[str, Any]) -> None:
    user = _object(body, "user")
    _strings(user, "id", required=True)
    _strings(user, "name", "username", "team_id")
    _objects(body, "team", "channel", "container", "message", "view")
    for part in ("team", "channel"):
        if isinstance(body.get(part), Mapping):
            _strings(body[part], "id")
    _strings(body, "trigger_id")
    kind = body["type"]
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not isinstance(actions[0], Mapping):
            raise Refused(400, "'actions' is not a list of actions")
        _strings(actions[0], "action_id", required=True)
        _strings(actions[0], "value")
        if isinstance(body.get("container"), Mapping):
            _strings(body["container"], "type", "channel_id", "message_ts")
        if isinstance(body.get("message"), Mapping):
            _strings(body["message"], "ts", "text")
    elif kind in {"view_submission", "view_closed"}:
        _check_view(_object(body, "view"))
    else:  # shortcuts
        _strings(body, "trigger_id", "callback_id", required=True)
        if isinstance(body.get("message"), Mapping):
            _strings(body["message"], "text")


def _check_view(view: Mapping[str, Any]) -> None:
    """A modal's state and Kairos's metadata, as ``modals.read_submission`` reads them."""
    _strings(view, "type", required=True)  # bolt reads it to tell workflow steps apart
    _strings(view, "callback_id", "private_metadata")
    _objects(view, "state")
    values = (view.get("state") or {}).get("values")
    if not _is(values, Mapping):
        raise Refused(400, "'view.state.values' is not an object")
    for block in (values or {}).values():
        if not isinstance(block, Mapping) or not all(
            isinstance(e, Mapping) for e in block.values()
        ):
            raise Refused(400, "a modal block is not an object of elements")
        for element in block.values():
            _strings(element, "value", "type")
            option = element.get("selected_option")
            if not _is(option, Mapping) or (option and not _is(option.get("value"), str)):
                raise Refused(400, "'selected_option' is not an option")
            users = element.get("selected_users")
            if not _is(users, list) or not all(isinstance(u, str) for u in users or ()):
                raise Refused(400, "'selected_users' is not a list of user ids")
    metadata = view.get("private_metadata")
    if metadata:
        try:
            data = json.loads(metadata)
        except ValueError:
            return  # read_submission treats unreadable metadata as none
        task_id = data.get("task_id") if isinstance(data, Mapping) else None
        if not isinstance(data, Mapping) or not (
            task_id is None or (isinstance(task_id, int) and not isinstance(task_id, bool))
        ):
            raise Refused(400, "the modal's metadata is not Kairos's")
        _strings(data, "channel")
        _objects(data, "shown")


def parse_bolt_request(request: Request, body: bytes) -> AsyncBoltRequest:
    """The request as bolt would build it, once its body has a shape Kairos can act on."""
    bolt = AsyncBoltRequest(
        body=body.decode("utf-8"),
        query=request.url.query,
        headers=dict(request.headers.items()),
    )
    check_shape(bolt.body)
    return bolt


def slack_gate(signing_secret: str, *, max_bytes: int = MAX_BODY_BYTES) -> Gate[AsyncBoltRequest]:
    """The gate of ``POST /slack/events``."""
    return Gate(
        name="slack",
        parse=parse_bolt_request,
        verifier=SlackVerifier(signing_secret),
        max_bytes=max_bytes,
    )


def unsigned_gate(*, max_bytes: int = MAX_BODY_BYTES) -> Gate[AsyncBoltRequest]:
    """The OAuth pages: unsigned GETs, but still capped and parsed safely."""

    def parse(request: Request, body: bytes) -> AsyncBoltRequest:
        return AsyncBoltRequest(
            body=body.decode("utf-8"), query=request.url.query, headers=dict(request.headers)
        )

    return Gate(name="slack-oauth", parse=parse, max_bytes=max_bytes)


async def dispatch(app: AsyncApp, request: AsyncBoltRequest) -> Response:
    return to_starlette_response(await app.async_dispatch(request))
