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

from bot.conversation import replies
from bot.conversation.speaker import Speaker
from core.messages import Attachment, Reply
from core.models import TaskPublic
from core.workflows.service import WorkflowService
from core.workflows.templates import template

_ART = r"(?:(?:the|a|an|our|my|this)\s+)?"
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
        return WorkflowRequest(kind, (name or step or "").strip() or None)
    return None


FindTask = Callable[[str, Speaker], Awaitable[TaskPublic]]


class WorkflowTalk:
    """Answers workflow phrases; ``None`` lets the rest of the conversation try."""

    def __init__(self, *, workflows: WorkflowService, find_task: FindTask) -> None:
        self._workflows = workflows
        self._find = find_task

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
