"""Checking a task's action when it is created or changed: never confirm a job that cannot run.

``ActionChecker.checked`` parses the action into its typed model and refuses,
with a message saying what to do, anything this installation cannot run: an
unknown type, an executor that is not installed, a shell command outside
``KAIROS_SHELL_ALLOW``, an internal HTTP target, an unknown SQL connection, an
AI prompt without an LLM, or a caller whose role may not create it.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Collection, Mapping
from typing import Any

from core.actions import (
    Action,
    AiPromptAction,
    HttpAction,
    ShellAction,
    SqlAction,
    dump_action,
    parse_action,
)
from core.addresses import check_public
from core.enums import Role
from core.errors import InvalidInput, NotConfigured, PermissionDenied
from core.models import Member
from core.policy import PRIVILEGED_ACTIONS, ExecutionPolicy, find_program, program_missing
from core.store import SqlStore


class ActionChecker:
    """Validates actions against the ``ExecutionPolicy`` and the installed executors."""

    def __init__(
        self, *, store: SqlStore, policy: ExecutionPolicy, available: Collection[str]
    ) -> None:
        self._store = store
        self._policy = policy
        self._available = frozenset(available)

    async def checked(self, raw: Mapping[str, Any], *, actor: Member) -> dict[str, Any]:
        """The action as it will be stored, or the error explaining why it cannot run."""
        action = parse_action(raw)
        await self._may_create(action, actor)
        self._installed(action)
        await self._allowed(action, actor)
        return dump_action(action)

    def caveats(self, raw: Mapping[str, Any], *, workspace_id: int) -> list[str]:
        """What will make a stored, allowed action fail as things stand, said when it is
        confirmed: a shell job's program that is not there (yet)."""
        action = parse_action(raw)
        if not isinstance(action, ShellAction) or action.shell:
            return []
        policy = self._policy
        name = _split(action.command)[0]
        workdir = policy.workdir(workspace_id)
        path = policy.job_path(action.env, policy.job_user())
        if find_program(name, workdir, path) is not None:
            return []
        return [
            f"Note: it will fail until it can start: {program_missing(name, workdir, path)}. "
            f"Put the script in {workdir} (executable) before its first run."
        ]

    async def _may_create(self, action: Action, actor: Member) -> None:
        if action.type not in PRIVILEGED_ACTIONS or Role(actor.role) in self._allowed_roles():
            return
        raise PermissionDenied(
            f"Only workspace admins may create {action.type} jobs.",
            hint="Ask an admin of this workspace to create it, or to make you an admin.",
        )

    def _allowed_roles(self) -> frozenset[Role]:
        # Owners can do everything admins can.
        return frozenset({Role.OWNER, Role(self._policy.privileged_role)})

    def _installed(self, action: Action) -> None:
        if isinstance(action, AiPromptAction) and (
            not self._policy.llm_configured or "ai_prompt" not in self._available
        ):
            raise NotConfigured(
                "AI prompt jobs need an LLM, and none is configured here.",
                hint="Set KAIROS_ANTHROPIC_API_KEY (AI jobs arrive with the Claude integration).",
            )
        if action.type not in self._available:
            raise NotConfigured(
                f"{action.type} jobs are not enabled on this Kairos.",
                hint=f"Enabled action types: {', '.join(sorted(self._available))}.",
            )

    async def _allowed(self, action: Action, actor: Member) -> None:
        policy = self._policy
        if isinstance(action, ShellAction):
            check_shell(action, policy)
            policy.reachable_workdir(actor.workspace_id)
        elif isinstance(action, HttpAction):
            _secrets_exist(action, policy)
            await check_public(
                _template_free(action.url), allow_private=policy.http_allow_private, strict=False
            )
        elif isinstance(action, SqlAction):
            connection_url(action, policy)


@functools.lru_cache(maxsize=1024)
def _split(command: str) -> tuple[str, ...]:
    """``shlex.split``, remembered: a job's command is split again on every run."""
    return tuple(shlex.split(command))


def check_shell(action: ShellAction, policy: ExecutionPolicy) -> list[str]:
    """The argv of a shell action, or the refusal (disabled, not allowed, bad quoting)."""
    if not policy.shell_allow:
        raise NotConfigured(
            "Shell jobs are disabled on this Kairos.",
            hint="An operator can allow commands with KAIROS_SHELL_ALLOW "
            "(comma-separated patterns, e.g. 'backup.sh,./scripts/*').",
        )
    if policy.shell_sandbox == "bwrap" and policy.bwrap_path is None:
        raise NotConfigured(
            "KAIROS_SHELL_SANDBOX=bwrap but bubblewrap (bwrap) is not installed.",
            hint="Install bubblewrap, or set KAIROS_SHELL_SANDBOX=none.",
        )
    if not policy.shell_allowed(action.command):
        raise PermissionDenied(
            f"The command {action.command!r} is not allowed here.",
            hint=f"Allowed patterns (KAIROS_SHELL_ALLOW): {', '.join(policy.shell_allow)}.",
        )
    missing = [name for name in action.secrets if name not in policy.secrets]
    if missing:
        raise NotConfigured(
            f"Unknown secret(s): {', '.join(missing)}.",
            hint="Define them in KAIROS_SECRETS (JSON: name → value).",
        )
    if action.shell:
        return ["/bin/sh", "-c", action.command]
    try:
        argv = list(_split(action.command))
    except ValueError as exc:
        raise InvalidInput(
            f"The command {action.command!r} cannot be split into arguments: {exc}.",
            hint="Check its quotes.",
        ) from exc
    if not argv:
        raise InvalidInput("The command is empty.")
    return argv


def connection_url(action: SqlAction, policy: ExecutionPolicy) -> tuple[str, str]:
    """``(name, SQLAlchemy URL)`` of the action's connection, or why there is none."""
    names = sorted(policy.sql_connections)
    if not names:
        raise NotConfigured(
            "SQL jobs need a named connection, and none is configured.",
            hint='Set KAIROS_SQL_CONNECTIONS, e.g. {"sales": "postgresql://…"}.',
        )
    name = action.connection
    if name is None:
        if len(names) > 1:
            raise InvalidInput(
                "Which database should this query run on?",
                hint=f"Name a connection: {', '.join(names)}.",
            )
        name = names[0]
    if name not in policy.sql_connections:
        raise NotConfigured(
            f"There is no SQL connection named {name!r}.",
            hint=f"Configured connections: {', '.join(names)}.",
        )
    return name, policy.sql_connections[name]


def _secrets_exist(action: HttpAction, policy: ExecutionPolicy) -> None:
    texts = [action.url, action.body or "", *action.headers.values()]
    named = {
        m.group(1) for text in texts for m in re.finditer(r"\{secret\.([A-Za-z0-9_]+)\}", text)
    }
    missing = sorted(named - set(policy.secrets))
    if missing:
        raise NotConfigured(
            f"Unknown secret(s): {', '.join(missing)}.",
            hint="Define them in KAIROS_SECRETS (JSON: name → value).",
        )


def _template_free(url: str) -> str:
    """The URL with ``{placeholders}`` emptied, so its host can be checked at creation."""
    out, depth = [], 0
    for ch in url:
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)
