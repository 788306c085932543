"""``kairos parse``: what the offline rule parser makes of a message, as JSON.

Single mode prints one object; ``--jsonl FILE|-`` reads one request per line and
writes one result per line in the same order, with the parser built once. A bad
request line gives ``{"error": ...}`` on its line and the batch goes on.

Imports stay light (no store or scheduler; settings only when a zone is missing)
so the command starts fast.
"""

from __future__ import annotations

import functools
import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import typer

from core.errors import KairosError

_DATE_ORDERS = ("DMY", "MDY")


class RequestError(ValueError):
    """A malformed request (bad JSON, missing text, unknown zone, bad time)."""


@functools.cache
def default_timezone() -> str:
    """The configured default zone (``KAIROS_DEFAULT_TIMEZONE``, also from ``.env``), read once."""
    from bot.commands.common import load_settings

    return load_settings().default_timezone


def _zone(value: Any) -> str:
    if value is None:
        return default_timezone()
    if not isinstance(value, str):
        raise RequestError("'tz' must be an IANA zone name such as 'Europe/Berlin'")
    from core.schedule import check_timezone  # pydantic models: not for 'kairos --help'

    try:
        return check_timezone(value)
    except KairosError as exc:
        raise RequestError(exc.user_message()) from exc


def _now(value: Any, zone: str) -> datetime:
    if value is None:
        return datetime.now(UTC).astimezone(ZoneInfo(zone)).replace(microsecond=0)
    if not isinstance(value, str):
        raise RequestError("'now' must be an ISO 8601 date-time string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RequestError(f"'now' is not ISO 8601: {value!r}") from exc
    if moment.tzinfo is None:  # a naive 'now' is wall-clock time in the request's zone
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment


def parse_request(parser: Any, request: Any) -> dict[str, Any]:
    """Parse one batch request object into the result JSON (raises ``RequestError``)."""
    if not isinstance(request, dict):
        raise RequestError("a request line must be a JSON object with a 'text' field")
    text = request.get("text")
    if not isinstance(text, str):
        raise RequestError("the request needs a string 'text' field")
    zone = _zone(request.get("tz"))
    now = _now(request.get("now"), zone)
    user = request.get("user", "me")
    if not isinstance(user, str):
        raise RequestError("'user' must be a string")
    order = request.get("date_order")
    order = order.upper() if isinstance(order, str) else order
    if order is not None and order not in _DATE_ORDERS:
        raise RequestError("'date_order' must be 'DMY' (3/12 = 3 December) or 'MDY' (March 12)")
    extra = {"date_order": order} if order else {}
    result: dict[str, Any] = parser.parse(text, now=now, tz=zone, user=user, **extra).to_json()
    return result


def run_batch(parser: Any, source: TextIO, sink: TextIO) -> int:
    """One result line per request line; returns how many lines were processed."""
    count = 0
    for line in source:
        count += 1
        try:
            try:
                request = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RequestError(f"not JSON: {exc.msg} (column {exc.colno})") from exc
            out: dict[str, Any] = parse_request(parser, request)
        except RequestError as exc:
            out = {"error": str(exc)}
        sink.write(json.dumps(out, ensure_ascii=False) + "\n")
    sink.flush()
    return count


def parse(
    text: str | None = typer.Argument(None, help="The message to parse."),
    now: str | None = typer.Option(
        None, "--now", help="Reference time, ISO 8601 (naive = in --tz)."
    ),
    tz: str | None = typer.Option(
        None, "--tz", help="IANA zone (default: KAIROS_DEFAULT_TIMEZONE, else UTC)."
    ),
    user: str = typer.Option("me", "--user", help="Who is speaking."),
    jsonl: str | None = typer.Option(
        None, "--jsonl", help="Batch: a file (or - for stdin) of JSON request lines."
    ),
    date_order: str | None = typer.Option(
        None,
        "--date-order",
        envvar="KAIROS_DATE_ORDER",
        help="How numeric dates are written: DMY (3/12 = 3 Dec) or MDY (March 12). "
        "Unset: ambiguous ones are asked back. A batch line's 'date_order' wins.",
    ),
    parser_mode: str = typer.Option(
        "rules",
        "--parser",
        help="rules (offline), claude (always Claude, rules as fallback) or auto "
        "(rules first, Claude when they are unsure); claude/auto need KAIROS_ANTHROPIC_API_KEY.",
    ),
) -> None:
    """Show what Kairos understands in TEXT, as the JSON intent of PARSING.md."""
    from bot.commands.llm import parser_for

    if date_order is not None and date_order.upper() not in _DATE_ORDERS:
        typer.echo(json.dumps({"error": "--date-order must be DMY or MDY"}), err=True)
        raise typer.Exit(2)
    with parser_for(parser_mode, date_order=date_order.upper() if date_order else None) as parser:
        _parse(parser, text, now=now, tz=tz, user=user, jsonl=jsonl)


def _parse(
    parser: Any, text: str | None, *, now: str | None, tz: str | None, user: str, jsonl: str | None
) -> None:
    if jsonl is not None:
        if jsonl == "-":
            run_batch(parser, sys.stdin, sys.stdout)
        else:
            try:
                with open(jsonl, encoding="utf-8") as source:
                    run_batch(parser, source, sys.stdout)
            except OSError as exc:
                typer.echo(json.dumps({"error": f"cannot read {jsonl}: {exc.strerror}"}), err=True)
                raise typer.Exit(2) from exc
        return
    if text is None:
        typer.echo(json.dumps({"error": "give a TEXT to parse or --jsonl FILE"}), err=True)
        raise typer.Exit(2)
    try:
        result = parse_request(parser, {"text": text, "now": now, "tz": tz, "user": user})
    except RequestError as exc:
        typer.echo(json.dumps({"error": str(exc)}))
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(result, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add ``kairos parse`` to the CLI."""
    app.command("parse")(parse)
