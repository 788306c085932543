"""AI-planned workflows in the conversation: "prepare the weekly report".

With Claude configured, a message starting with *plan*, *prepare*, *set up* or
*organise* (optionally after ``dry run:``) is planned by Claude; Kairos checks
the plan (``core.planning.service``) and shows it with Approve / Edit / Cancel.
Nothing is created before Approve, and Approve checks again. In a dry run
(``dry run: …`` or ``KAIROS_LLM_PLAN_DRY_RUN``) Approve reports what would be
created and creates nothing. "yes" and "no" answer the plan like the buttons.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.conversation import replies
from bot.conversation.plan_edits import HOW, read_edit
from bot.conversation.speaker import Speaker
from core.errors import KairosError
from core.intents.rules import RuleParser
from core.messages import Button, Reply, ReplyKind
from core.planning.plan import Plan, PlanStep
from core.planning.service import PlanService
from core.services.conversation import ConversationMemory

#: The note an edited plan carries (its tasks say the requester changed AI's plan).
EDITED = "edited by the requester"

_ASK = re.compile(r"^\s*(?P<dry>dry[- ]run:?\s+)?(?=(?:plan|prepare|set up|organi[sz]e)\b)", re.I)


class Planner(Protocol):
    """Proposes plans (``integrations.llm.planner.ClaudePlanner``)."""

    async def plan(self, goal: str, *, workspace_id: int | None) -> Plan: ...


def plan_json(plan: Plan) -> dict[str, Any]:
    """A plan as stored with the pending proposal."""
    return {
        "goal": plan.goal,
        "planner": plan.planner,
        "notes": list(plan.notes),
        "steps": [
            {
                "key": s.key,
                "title": s.title,
                "action": s.action,
                "after": list(s.after),
                "channel": s.channel,
            }
            for s in plan.steps
        ],
    }


def plan_from(data: dict[str, Any]) -> Plan:
    steps = tuple(
        PlanStep(
            key=s["key"],
            title=s["title"],
            action=s["action"],
            after=tuple(s["after"]),
            channel=s.get("channel"),
        )
        for s in data["steps"]
    )
    return Plan(
        goal=data["goal"],
        steps=steps,
        planner=data.get("planner", ""),
        notes=tuple(data.get("notes", ())),
    )


def _timed(text: str, speaker: Speaker) -> bool:
    """ "plan the review on Friday at 3" is a task with a time, not a workflow to plan."""
    reading = RuleParser().parse(text, now=datetime.now(UTC), tz=speaker.tz)
    return reading.schedule is not None or reading.due is not None


def describe(plan: Plan) -> str:
    """The plan as a numbered list, with each step's action and prerequisites."""
    number = {step.key: i for i, step in enumerate(plan.steps, 1)}
    lines = [f"Plan for '{plan.goal}' ({len(plan.steps)} steps, proposed by AI):"]
    for i, step in enumerate(plan.steps, 1):
        kind = step.action.get("type") if step.action else "task"
        where = f" in #{step.channel}" if step.channel else ""
        after = f" — after {', '.join(str(number[k]) for k in step.after)}" if step.after else ""
        lines.append(f"  {i}. {step.title} [{kind}{where}]{after}")
    return "\n".join(lines)


class PlanTalk:
    """Plans, shows and carries out AI-planned workflows in the conversation."""

    def __init__(
        self,
        *,
        planner: Planner,
        service: PlanService,
        memory: ConversationMemory,
        dry_run: bool = False,
    ) -> None:
        self._planner = planner
        self._service = service
        self._memory = memory
        self._dry_run = dry_run

    async def answer(self, text: str, speaker: Speaker) -> list[Reply] | None:
        """Plan ``text`` if it asks for a plan; ``None`` otherwise."""
        asked = _ASK.match(text)
        if asked is None or _timed(text, speaker):
            return None
        dry = bool(asked.group("dry")) or self._dry_run
        goal = text[asked.end() :].strip()
        try:
            plan = await self._planner.plan(goal, workspace_id=speaker.workspace_id)
        except KairosError as exc:
            return [replies.error(f"I could not plan that: {exc.user_message()}")]
        try:
            await self._service.check(plan, actor=speaker.member)
        except KairosError as exc:
            return [replies.error(f"{describe(plan)}\nI can't carry it out: {exc.user_message()}")]
        return [await self._show(plan, dry, speaker)]

    async def _show(self, plan: Plan, dry: bool, speaker: Speaker, *, lead: str = "") -> Reply:
        """Keep ``plan`` waiting for this person's answer and show it with its buttons."""
        await self._keep({"type": "plan", "plan": plan_json(plan), "dry_run": dry}, speaker)
        note = "\nDry run: approving checks it again and creates nothing." if dry else ""
        buttons = (
            Button(label="Approve", action="plan.approve", value="plan"),
            Button(label="Edit", action="plan.edit", value="plan"),
            Button(label="Cancel", action="plan.cancel", value="plan"),
        )
        text = lead + describe(plan) + note
        return Reply(text=text, kind=ReplyKind.QUESTION, buttons=buttons)

    async def _keep(self, proposal: dict[str, Any], speaker: Speaker) -> None:
        await self._memory.propose(
            workspace_id=speaker.workspace_id,
            place=speaker.place,
            person=speaker.person,
            proposal=proposal,
        )

    async def edit(
        self, proposal: dict[str, Any], text: str, speaker: Speaker
    ) -> list[Reply] | None:
        """Change the taken plan as ``text`` asks ("remove step 3"); ``None``: no edit asked.

        The changed plan is checked like a new proposal before it is kept; a change
        that fails is refused and the plan stays waiting as it was.
        """
        change = read_edit(text)
        if change is None:
            return None
        plan, dry = plan_from(proposal["plan"]), bool(proposal.get("dry_run"))
        try:
            changed = change(plan)
            await self._service.check(changed, actor=speaker.member)
        except KairosError as exc:
            await self._keep(proposal, speaker)
            return [
                replies.error(
                    f"I did not make that change: {exc.user_message()}\n"
                    f"The plan is as it was:\n{describe(plan)}"
                )
            ]
        edited = replace(changed, notes=tuple(dict.fromkeys((*changed.notes, EDITED))))
        return [await self._show(edited, dry, speaker, lead="Changed. ")]

    async def press(self, action: str, speaker: Speaker) -> list[Reply]:
        """Approve, Edit or Cancel the plan waiting for this person."""
        proposal = await self._memory.take_proposal(
            workspace_id=speaker.workspace_id, place=speaker.place, person=speaker.person
        )
        if proposal is None or proposal.get("type") != "plan":
            return [replies.error("There is no plan waiting for you (plans expire); ask again.")]
        return await self.decide(proposal, action, speaker)

    async def decide(self, proposal: dict[str, Any], action: str, speaker: Speaker) -> list[Reply]:
        """Carry out ``action`` (``plan.approve``/``plan.edit``/``plan.cancel``) on a taken plan."""
        if action == "plan.cancel":
            return [replies.text("Plan cancelled; nothing was created.")]
        if action == "plan.edit":
            await self._keep(proposal, speaker)  # still waiting: edits apply to it
            plan = plan_from(proposal["plan"])
            buttons = (
                Button(label="Approve", action="plan.approve", value="plan"),
                Button(label="Cancel", action="plan.cancel", value="plan"),
            )
            text = f"{describe(plan)}\n{HOW}"
            return [Reply(text=text, kind=ReplyKind.QUESTION, buttons=buttons)]
        plan = plan_from(proposal["plan"])
        dry = bool(proposal.get("dry_run"))
        try:
            carried = await self._service.approve(
                plan, actor=speaker.member, dry_run=dry, language=speaker.language
            )
        except KairosError as exc:
            return [replies.error(f"The plan was not carried out: {exc.user_message()}")]
        if carried is None:
            return [
                replies.text(
                    f"Dry run: the plan passes every check; approving it for real would create "
                    f"a workflow of {len(plan.steps)} tasks and run it. Nothing was created."
                )
            ]
        listed = ", ".join(f"#{t.id} {t.title}" for t in carried.tasks)
        return [
            replies.text(
                f"Created workflow '{carried.workflow}' with {len(carried.tasks)} tasks from the "
                f"plan and started it (run {carried.run_id}): {listed}. "
                f"Say 'show workflow {carried.workflow}' to follow it."
            )
        ]
