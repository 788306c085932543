"""What a task does, typed: one pydantic model per action type, one discriminated union.

A task's ``action`` column stores one of these as JSON (``{"type": "shell", ...}``).
``parse_action`` turns stored or user-given data into the model, with a clear
message naming the field that is wrong. Each executor declares the model it
runs (``core.executors.registry``); the task service checks the policy for it
when a task is created or changed (``core.services.actions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.errors import InvalidInput

_A = TypeVar("_A", bound=BaseModel)

#: Upper bound for any action's own timeout; the run timeout setting may be lower.
MAX_TIMEOUT_SECONDS = 24 * 3600


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_seconds: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT_SECONDS)


class NotifyAction(_Action):
    """Post the reminder to its people (the default of reminders and tasks)."""

    type: Literal["notify"] = "notify"
    message: str | None = Field(default=None, max_length=4000)


class NoopAction(_Action):
    """Do nothing and succeed (tests, benchmarks, placeholders)."""

    type: Literal["noop"] = "noop"


class ShellAction(_Action):
    """Run a command: ``command`` is split into argv (``shlex``) unless ``shell`` is true.

    ``secrets`` names settings secrets exported into the child's environment
    under the same name; nothing else of Kairos's environment is inherited.
    """

    type: Literal["shell"] = "shell"
    command: str = Field(min_length=1, max_length=10_000)
    shell: bool = False
    secrets: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)


class HttpAction(_Action):
    """Call a URL; a status outside ``expect_status`` (default: any 2xx) fails the attempt.

    ``url``, header values and ``body`` are templates: ``{scheduled_for}``,
    ``{now}``, ``{task_id}``, ``{run_id}``, ``{secret.NAME}``, and for runs started by
    an event ``{event}`` / ``{event.a.b}`` (``docs/jobs.md``).
    """

    type: Literal["http"] = "http"
    url: str = Field(min_length=1, max_length=4000)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = Field(default=None, max_length=1_000_000)
    expect_status: tuple[int, ...] = ()


class SqlAction(_Action):
    """Run one SQL statement on a named connection (``KAIROS_SQL_CONNECTIONS``).

    ``connection`` may be left out when exactly one connection is configured.
    Read-only unless ``write`` is true.
    """

    type: Literal["sql"] = "sql"
    query: str = Field(min_length=1, max_length=100_000)
    connection: str | None = Field(default=None, max_length=100)
    write: bool = False


class DigestAction(_Action):
    """A summary of the workspace (or of ``channel``): due, overdue, done, failing, next."""

    type: Literal["digest"] = "digest"
    channel: str | None = Field(default=None, max_length=200)
    #: Post the team report of the last complete week or month instead (core.insight).
    report: Literal["week", "month"] | None = None


class AiPromptAction(_Action):
    """Ask the LLM ``prompt`` and post the answer (needs an LLM; refused without one)."""

    type: Literal["ai_prompt"] = "ai_prompt"
    prompt: str = Field(min_length=1, max_length=20_000)


Action = Annotated[
    NotifyAction
    | NoopAction
    | ShellAction
    | HttpAction
    | SqlAction
    | DigestAction
    | AiPromptAction,
    Field(discriminator="type"),
]
ACTION_TYPES: tuple[str, ...] = (
    "notify",
    "noop",
    "shell",
    "http",
    "sql",
    "digest",
    "ai_prompt",
)
# Through ``Any``: mypy (1.20) does not take an Annotated union of seven models as a type form.
_ADAPTER: TypeAdapter[Action] = TypeAdapter(cast(Any, Action))


def parse_action(data: Mapping[str, Any] | BaseModel) -> Action:
    """The typed action of ``data``, or ``InvalidInput`` naming what is wrong."""
    if isinstance(data, BaseModel):
        data = data.model_dump()
    kind = data.get("type")
    if kind not in ACTION_TYPES:
        raise InvalidInput(
            f"Unknown action type {kind!r}." if kind is not None else "The action has no type.",
            hint=f"Use one of: {', '.join(ACTION_TYPES)}.",
        )
    try:
        return _ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'action'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidInput(
            f"The {kind} action is not valid ({problems}).",
            hint="Fix those fields and try again.",
        ) from exc


def dump_action(action: Action) -> dict[str, Any]:
    """The JSON stored in ``tasks.action`` (defaults left out, the type kept)."""
    data = action.model_dump(mode="json", exclude_defaults=True)
    data["type"] = action.type
    return data


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_thaw(v) for v in value]
    return value


def action_as(data: Mapping[str, Any], model: type[_A]) -> _A:
    """The job's stored action as ``model`` (an executor's declared model), or ``InvalidInput``."""
    action = parse_action(_thaw(data))
    if not isinstance(action, model):
        raise InvalidInput(f"This executor runs {model.__name__}, not a {action.type} action.")
    return action
