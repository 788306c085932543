"""Talking about workflows: show, start from a template, run, rerun, force, clear, list.

The phrasings are read by a small grammar (a verb, an optional article, a name
or step, the word "workflow" or a "what follows" tail) rather than fixed
sentences; anything it does not read falls through to the intent parser.
Steps are found by their titles like any task reference.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from bot.conversation import replies
from bot.conversation.speaker import Speaker
from core.enums import TaskKind
from core.errors import NotFound
from core.intents.model import Intent
from core.intents.specs import to_spec
from core.messages import Attachment, Reply
from core.models import TaskPublic
from core.services.tasks import TaskService
from core.workflows.rules import TriggerRule
from core.workflows.service import WorkflowService
from core.workflows.templates import template

_ARTICLES = ("the", "a", "an", "our", "my", "this")
_ART = rf"(?:(?:{'|'.join(_ARTICLES)})\s+)?"
_TEMPLATE = r"(?P<template>feature(?:\s+development)?|release|bug\s*fix|hotfix)"
_AFTER = (
    r"(?:and|with|plus)\s+(?:everything|all|anything|whatever|what|the\s+steps?)\s*"
    r"(?:that\s+)?(?:comes?\s+|follows?\s*|is\s+)?(?:after|downstream(?:\s+of)?|following|below)?"
    r"\s*(?:it|that|this|them)?"
)

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"^\s*{pattern}\s*[.!?]*\s*$", re.IGNORECASE))
    for name, pattern in (
        ("list", r"(?:list|show)\s+(?:me\s+)?(?:all\s+)?(?:the\s+|my\s+|our\s+)?workflows"),
        (
            "template",
            rf"(?:start|create|make|begin|kick\s+off|set\s+up|new)\s+{_ART}{_TEMPLATE}\s+"
            r"workflow\s*(?:for|called|named|:)?\s*(?P<subject>.*)",
        ),
        (
            "show",
            rf"(?:show|display|draw|view|see|visuali[sz]e)\s+(?:me\s+)?{_ART}"
            r"(?:workflow\s+(?P<name1>.+)|(?P<name2>.+?)\s+workflow)",
        ),
        ("start", rf"(?:run|start|trigger|launch)\s+{_ART}(?P<name>.+?)\s+workflow(?:\s+now)?"),
        ("rerun", rf"(?:re-?run|retry|run\s+again)\s+{_ART}(?P<step>.+?)\s+{_AFTER}"),
        ("anyway", rf"(?:run|start)\s+{_ART}(?P<step>.+?)\s+anyway"),
        (
            "clear",
            rf"clear\s+{_ART}(?:failure|error)\s+(?:of|on|in|for)\s+{_ART}(?P<step>.+)"
            rf"|clear\s+{_ART}(?P<step2>.+?)(?:'s)?\s+(?:failure|error)",
        ),
    )
)


@dataclass(frozen=True, slots=True)
class WorkflowRequest:
    kind: str
    name: str | None = None
    subject: str | None = None


def read_request(text: str) -> WorkflowRequest | None:
    """What a workflow phrase asks for, or ``None`` when it is not one."""
    for kind, pattern in _PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        groups = {k: v for k, v in found.groupdict().items() if v}
        if kind == "template":
            return WorkflowRequest(kind, groups["template"], groups.get("subject", "").strip())
        name = groups.get("name") or groups.get("name1") or groups.get("name2")
        step = groups.get("step") or groups.get("step2")
        if kind == "show" and name is not None and name.strip().lower() in _ARTICLES:
            return WorkflowRequest("list")  # "show the workflow": which one? list them
        return WorkflowRequest(kind, (name or step or "").strip() or None)
    return None


FindTask = Callable[[str, Speaker], Awaitable[TaskPublic]]


class WorkflowTalk:
    """Answers workflow phrases; ``None`` lets the rest of the conversation try."""

    def __init__(
        self, *, workflows: WorkflowService, tasks: TaskService, find_task: FindTask
    ) -> None:
        self._workflows = workflows
        self._tasks = tasks
        self._find = find_task

    async def done(self, task_id: int) -> None:
        """A person completed a task: release what waits for it."""
        await self._workflows.step_done(task_id)

    async def arrange(
        self, intent: Intent, speaker: Speaker, *, kind: TaskKind, title: str | None
    ) -> list[Reply] | None:
        """ "When X is done, do Y", "if X fails, tell #eng", "run A, then B": steps and edges.

        ``None`` when the request is none of these (or X is no task here): the
        conversation goes on as it would have.
        """
        schedule = intent.schedule
        after = after_event(schedule.event) if schedule and schedule.kind == "event" else None
        steps = then_steps(title) if title else []
        if after is None and len(steps) < 2:
            return None
        member = speaker.member
        if after is not None:
            ref, succeeded = after
            before = await self._lookup(ref, speaker)
            if before is None or before.id is None:
                return None
            what = title or f"'{before.title}' {'is done' if succeeded else 'failed'}"
            target = await self._step(what, intent, speaker, kind, schedule=None)
            rule = TriggerRule.ALL_SUCCESS if succeeded else TriggerRule.ONE_FAILED
            workflow = await self._workflows.link(before.id, target, actor=member, rule=rule)
            verb = "is done" if succeeded else "fails"
            return [
                replies.text(
                    f"OK: when '{before.title}' {verb}, #{target} runs after it "
                    f"(workflow '{workflow.name}'). Say 'show the {workflow.name} workflow' "
                    "to see it.",
                    task_id=target,  # "it" now means the new step
                )
            ]
        spec = to_spec(schedule) if schedule is not None else None
        ids = [await self._step(steps[0], intent, speaker, kind, schedule=spec)]
        for step in steps[1:]:
            ids.append(await self._step(step, intent, speaker, kind, schedule=None))
        for before_id, after_id in pairwise(ids):
            workflow = await self._workflows.link(before_id, after_id, actor=member)
        chain = " → ".join(f"#{i}" for i in ids)
        return [
            replies.text(
                f"OK: {chain}, each after the one before (workflow '{workflow.name}'). "
                f"Say 'show the {workflow.name} workflow' to see it."
            )
        ]

    async def _lookup(self, ref: str, speaker: Speaker) -> TaskPublic | None:
        for name in spaced_variants(ref):
            try:
                return await self._find(name, speaker)
            except NotFound:
                continue
        return None

    async def _step(
        self,
        name: str,
        intent: Intent,
        speaker: Speaker,
        kind: TaskKind,
        *,
        schedule: Any,
    ) -> int:
        """The task called ``name`` (given ``schedule`` if any), or a new one."""
        found = await self._lookup(_LEAD.sub("", name) or name, speaker)
        if found is not None and found.id is not None:
            if schedule is not None:
                await self._tasks.update(found.id, {"schedule": schedule}, actor=speaker.member)
            return found.id
        for_me = kind is TaskKind.REMINDER and not intent.channel
        data: dict[str, Any] = {
            "kind": kind,
            "title": name,
            "timezone": speaker.tz,
            "schedule": schedule,
            "action": intent.action,
            "channel_ref": intent.channel,
            "assignees": ["me"] if for_me else [],
            "language": speaker.language,
        }
        task = await self._tasks.create(data, actor=speaker.member)
        assert task.id is not None
        return task.id

    async def answer(self, text: str, speaker: Speaker) -> list[Reply] | None:
        request = read_request(text)
        if request is None:
            return None
        member, ws = speaker.member, speaker.workspace_id
        if request.kind == "list":
            rows = await self._workflows.overview(workspace_id=ws)
            if not rows:
                return [replies.text("No workflows yet. Try 'start a release workflow for v2.3'.")]
            lines = [f"• {w.name} — {_last(r)}" for w, r in rows]
            return [replies.text("Workflows:\n" + "\n".join(lines))]
        if request.kind == "template":
            chosen = template(request.name or "")
            workflow = await self._workflows.from_template(
                chosen.key,
                request.subject or "",
                actor=member,
                channel_ref=speaker.inbound.channel_ref if speaker.in_channel else None,
            )
            return await self._show(workflow.name, speaker, lead="Created. ")
        if request.kind == "show":
            return await self._show(request.name or "", speaker)
        if request.kind == "start":
            pass_id = await self._workflows.start(request.name or "", actor=member)
            return [replies.text(f"Started run {pass_id} of workflow '{request.name}'.")]
        task = await self._find(request.name or "", speaker)
        assert task.id is not None
        if request.kind == "rerun":
            pass_id, node = await self._workflows.rerun(task.id, actor=member)
            return [
                replies.text(
                    f"Rerunning '{node.title}' and everything after it (workflow run {pass_id})."
                )
            ]
        if request.kind == "anyway":
            pass_id, node = await self._workflows.run_anyway(task.id, actor=member)
            return [
                replies.text(
                    f"Running '{node.title}' anyway, whatever came before it "
                    f"(workflow run {pass_id}; noted in the audit log)."
                )
            ]
        pass_id, node = await self._workflows.clear(task.id, actor=member)
        return [
            replies.text(
                f"Cleared the failure of '{node.title}': it counts as done and the steps "
                f"after it go on (workflow run {pass_id})."
            )
        ]

    async def _show(self, name: str, speaker: Speaker, *, lead: str = "") -> list[Reply]:
        shown = await self._workflows.show(name, workspace_id=speaker.workspace_id)
        picture = await shown.png()
        tree = shown.tree()
        reply = replies.text(f"{lead}{tree}")
        file = Attachment(
            filename=f"{_slug(shown.workflow.name)}.png",
            content=f"Workflow '{shown.workflow.name}'",
            data=picture,
        )
        return [Reply(text=reply.text, kind=reply.kind, attachment=file)]


def _last(run: object) -> str:
    if run is None:
        return "not run yet"
    status = getattr(run, "status", "")
    step = getattr(run, "failed_step", None)
    run_id = getattr(run, "id", None)
    return (
        f"run {run_id} failed at '{step}'"
        if status == "failed" and step
        else f"run {run_id} {status}"
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workflow"


#: "run the export, then the report" → steps; "and then" / "then" / ", then" / "followed by".
_THEN = re.compile(r"\s*(?:,\s*(?:and\s+)?then|\band\s+then|\bthen|,?\s*followed\s+by)\s+", re.I)
_LEAD = re.compile(r"^(?:(?:run|do|start|execute)\s+)?(?:the\s+|a\s+|an\s+)?", re.I)
#: Event schedules the parser reads from "when X is done" / "if X fails".
_AFTER_EVENT = re.compile(r"^task_(?P<how>completed|failed):(?P<ref>.+)$")


def then_steps(title: str) -> list[str]:
    """The steps of "run the export, then the report" (one item when there is no "then")."""
    parts = [p.strip(" ,.") for p in _THEN.split(title) if p.strip(" ,.")]
    return [_LEAD.sub("", p) or p for p in parts] if len(parts) > 1 else [title]


def after_event(event: str | None) -> tuple[str, bool] | None:
    """``("backup", True)`` for "after the backup succeeds", ``(…, False)`` for "fails"."""
    found = _AFTER_EVENT.match(event or "")
    if found is None:
        return None
    return found.group("ref").strip(), found.group("how") == "completed"


def spaced_variants(ref: str) -> list[str]:
    """``"deploy v 2"`` (how the tokenizer hands "v2" back) also as ``"deploy v2"``."""
    joined = re.sub(r"(?<=[A-Za-z]) (?=\d)", "", ref)
    return [ref] if joined == ref else [ref, joined]
