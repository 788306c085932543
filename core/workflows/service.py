"""The workflow service: workflows from chat and the CLI, permission-checked and audited.

Composes the pure parts (graph checks, templates, views) with the store
(``WorkflowStore`` rows, ``PassStore`` passes). Runs a command writes are
handed to the local worker pool at once when there is one (``Handover``);
otherwise any worker claims them from the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from core.enums import Role, RunStatus, TaskStatus
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.models import Member
from core.models_workflows import Workflow, WorkflowRun
from core.ports import Clock
from core.services.audit import record_action
from core.services.members import MANAGERS, may_change_tasks
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.passes import PassStore, PassView
from core.store.run_types import FiredRun
from core.workflows import picture, views
from core.workflows.graph import Graph, Node, check_edge
from core.workflows.rules import FailureMode, TriggerRule, parse_rule
from core.workflows.templates import template


class Handover(Protocol):
    """Where runs written by a command go to start without waiting for a poll."""

    def submit(self, runs: Sequence[FiredRun]) -> None: ...


@dataclass(frozen=True, slots=True)
class Shown:
    """A workflow with its latest pass, ready to render."""

    workflow: Workflow
    graph: Graph
    view: PassView | None

    @property
    def latest(self) -> dict[int, Any]:
        return dict(self.view.latest) if self.view is not None else {}

    @property
    def heading(self) -> str:
        name = f"Workflow '{self.workflow.name}'"
        if self.view is None:
            return f"{name} (not run yet)"
        v = self.view
        if v.status == "failed" and v.failed_step:
            return f"{name} · run {v.pass_id} failed at '{v.failed_step}'"
        return f"{name} · run {v.pass_id} {v.status}"

    def tree(self) -> str:
        return views.tree(self.graph, self.latest, heading=self.heading)

    def dot(self) -> str:
        return views.dot(self.graph, self.latest, name=self.workflow.name)

    async def png(self) -> bytes:
        return await asyncio.to_thread(
            picture.png, self.graph, self.latest, name=self.workflow.name
        )


@dataclass(frozen=True, slots=True)
class Ending:
    """A pass that ended, to tell the workflow's owner about (once)."""

    workflow: Workflow
    run: WorkflowRun
    owner: Member | None
    text: str
    #: The task a notice about this ending is filed under: where the pass started,
    #: else the workflow's first step.
    task_id: int | None = None

    @property
    def failed(self) -> bool:
        return self.run.status == "failed"

    @property
    def summary(self) -> str:
        """How it ended, without the workflow's name ("'test' failed (run 4)")."""
        if self.failed:
            step = f"'{self.run.failed_step}' failed" if self.run.failed_step else "a step failed"
            return f"{step} (run {self.run.id})"
        return f"every step is done (run {self.run.id})"


class WorkflowService:
    def __init__(
        self,
        *,
        store: SqlStore,
        passes: PassStore,
        tasks: TaskService,
        clock: Clock,
        handover: Handover | None = None,
    ) -> None:
        self._store = store
        self._passes = passes
        self._tasks = tasks
        self._clock = clock
        self.handover = handover

    # --- workflows ---------------------------------------------------------------

    async def create(
        self,
        name: str,
        *,
        actor: Member,
        on_failure: FailureMode = FailureMode.BLOCK,
        template_key: str | None = None,
        channel_ref: str | None = None,
    ) -> Workflow:
        self._may_change(actor)
        name = " ".join(name.split())
        if not name:
            raise InvalidInput("A workflow needs a name.", hint="Say e.g. 'workflow release'.")
        if await self._store.find_workflow(actor.workspace_id, name) is not None:
            raise InvalidInput(
                f"There is a workflow called '{name}' already.",
                hint="Pick another name, or show that workflow.",
            )
        workflow = await self._store.insert_workflow(
            Workflow(
                workspace_id=actor.workspace_id,
                name=name,
                on_failure=on_failure.value,
                template=template_key,
                owner_id=actor.id,
                channel_ref=channel_ref,
            )
        )
        await self._audit(actor, "workflow.created", None, {"workflow": name})
        return workflow

    async def get(self, name: str, *, workspace_id: int) -> Workflow:
        """The workflow called ``name``, or the one workflow whose name contains it."""
        found = await self._store.find_workflow(workspace_id, name)
        if found is None:
            every = await self._store.list_workflows(workspace_id)
            wanted = " ".join(name.split()).casefold()
            near = [w for w in every if wanted and wanted in w.name.casefold()]
            if len(near) == 1:
                return near[0]
            if near:
                names = ", ".join(f"'{w.name}'" for w in near)
                raise InvalidInput(f"'{name}' could be {names}.", hint="Say which one.")
            known = [w.name for w in every]
            raise NotFound(
                f"There is no workflow called '{name}'.",
                hint=f"Workflows: {', '.join(known)}."
                if known
                else "Start one from a template, e.g. 'start a release workflow for v2.3'.",
            )
        return found

    async def overview(self, *, workspace_id: int) -> list[tuple[Workflow, WorkflowRun | None]]:
        out = []
        for workflow in await self._store.list_workflows(workspace_id):
            assert workflow.id is not None
            out.append((workflow, await self._store.latest_pass(workflow.id)))
        return out

    async def from_template(
        self, name: str, subject: str, *, actor: Member, channel_ref: str | None = None
    ) -> Workflow:
        """Create a workflow and its steps from a template ("release" for "v2.3")."""
        chosen = template(name)
        subject = " ".join(subject.split())
        workflow = await self.create(
            chosen.name_for(subject),
            actor=actor,
            template_key=chosen.key,
            channel_ref=channel_ref,
        )
        assert workflow.id is not None
        ids: dict[str, int] = {}
        for step in chosen.steps:
            data: dict[str, Any] = {"title": f"{subject}: {step}" if subject else step}
            if channel_ref:
                data["channel_ref"] = channel_ref
            task = await self._tasks.create(data, actor=actor)
            assert task.id is not None
            ids[step] = task.id
            await self._store.set_step(task.id, workflow_id=workflow.id)
        for before, after in chosen.edges:
            await self._store.add_edge(ids[before], ids[after])
        return workflow

    async def add_step(
        self,
        workflow: Workflow,
        task_id: int,
        *,
        actor: Member,
        after: Sequence[int] = (),
        rule: TriggerRule | None = None,
    ) -> None:
        """Make a task a step of ``workflow``, after the given steps, under ``rule``."""
        self._may_change(actor)
        task = await self._store.get_task(task_id, workspace_id=actor.workspace_id)
        assert workflow.id is not None and task.id is not None
        await self._store.set_step(
            task.id, workflow_id=workflow.id, rule=rule.value if rule else None
        )
        for before in after:
            await self.link(before, task.id, actor=actor)

    async def link(
        self, before_id: int, after_id: int, *, actor: Member, rule: TriggerRule | None = None
    ) -> Workflow:
        """ "When ``before`` is done, do ``after``": one edge, both steps of one workflow.

        A task in no workflow joins the other's; when neither has one, a workflow
        named after ``before`` is made for the pair. A loop is refused, named.
        """
        self._may_change(actor)
        ws = actor.workspace_id
        before = await self._store.get_task(before_id, workspace_id=ws)
        after = await self._store.get_task(after_id, workspace_id=ws)
        assert before.id is not None and after.id is not None
        of = await self._store.workflow_of([before.id, after.id])
        wf_before, wf_after = of.get(before.id), of.get(after.id)
        if wf_before is not None and wf_after is not None and wf_before != wf_after:
            raise InvalidInput(
                f"'{before.title}' and '{after.title}' are steps of two different workflows.",
                hint="Move one of them into the other's workflow first.",
            )
        workflow_id = wf_before or wf_after
        workflow: Workflow | None
        if workflow_id is None:
            name = before.title
            workflow = await self._store.find_workflow(ws, name) or await self.create(
                name, actor=actor
            )
        else:
            workflow = await self._store.get_workflow(workflow_id)
        assert workflow is not None and workflow.id is not None
        edges = await self._store.dependency_edges(ws)
        titles = {before.id: before.title, after.id: after.title}
        for p, s in edges:
            titles.setdefault(p, f"#{p}")
            titles.setdefault(s, f"#{s}")
        for task_id in list(titles):
            if titles[task_id].startswith("#"):
                found = await self._store.find_task(task_id, workspace_id=ws)
                if found is not None:
                    titles[task_id] = found.title
        check_edge(edges, titles, before.id, after.id)
        async with self._store.transaction():
            await self._store.set_step(before.id, workflow_id=workflow.id)
            await self._store.set_step(
                after.id, workflow_id=workflow.id, rule=rule.value if rule else None
            )
            await self._store.add_edge(before.id, after.id)
            await self._audit(
                actor,
                "workflow.linked",
                after.id,
                {"workflow": workflow.name, "after": str(before.id), "rule": str(rule or "")},
            )
        return workflow

    async def set_rule(self, name: str, step: str, rule: str, *, actor: Member) -> Node:
        self._may_change(actor)
        workflow = await self.get(name, workspace_id=actor.workspace_id)
        node = self._step(await self._graph(workflow), step)
        await self._store.set_rule(node.task_id, parse_rule(rule).value)
        return node

    # --- passes ------------------------------------------------------------------

    async def start(self, name: str, *, actor: Member) -> int:
        self._may_change(actor)
        workflow = await self.get(name, workspace_id=actor.workspace_id)
        assert workflow.id is not None
        # Inside a caller's transaction (an approved plan) the pass is written with
        # it, and its runs go to the workers only once all of it is committed.
        pass_id, fired = await self._passes.start(
            workflow.id,
            started_by=actor.id,
            now=self._clock.now(),
            conn=await self._store.ambient_connection(),
        )
        await self._store.after_commit(partial(self._hand_over_now, fired))
        await self._audit(actor, "workflow.started", None, {"workflow": workflow.name})
        return pass_id

    async def rerun(self, task_id: int, *, actor: Member) -> tuple[int, Node]:
        """Rerun a step and everything after it, in the latest pass it ran in."""
        return await self._on_step(task_id, actor, "rerun")

    async def clear(self, task_id: int, *, actor: Member) -> tuple[int, Node]:
        """Set a failed step aside (it counts as completed); what follows is released."""
        return await self._on_step(task_id, actor, "clear")

    async def run_anyway(self, task_id: int, *, actor: Member) -> tuple[int, Node]:
        """Run a blocked or skipped step whatever its prerequisites did (admins only)."""
        if Role(actor.role) not in MANAGERS:
            raise PermissionDenied(
                "Only workspace admins can run a step whose prerequisites did not succeed.",
                hint="Ask an admin, or rerun the step that failed.",
            )
        return await self._on_step(task_id, actor, "run_anyway")

    async def step_done(self, task_id: int) -> None:
        """A person completed a task: the step of theirs that waited for them completes."""
        fired = await self._passes.complete_step(
            task_id, now=self._clock.now(), note="completed by a person"
        )
        self._hand_over(fired)

    async def open_prerequisites(self, task_id: int, *, workspace_id: int) -> list[str]:
        """Titles of the tasks this one waits for that are not done (asked before completing)."""
        task = await self._store.get_task(task_id, workspace_id=workspace_id)
        out = []
        for before in task.depends_on:
            found = await self._store.find_task(before, workspace_id=workspace_id)
            if found is None or found.status != TaskStatus.OPEN:
                continue  # done, paused or deleted: nothing to wait for
            if not await self._finished_in_pass(before):
                out.append(found.title)
        return out

    async def show(self, name: str, *, workspace_id: int) -> Shown:
        workflow = await self.get(name, workspace_id=workspace_id)
        assert workflow.id is not None
        graph = await self._graph(workflow)
        last = await self._store.latest_pass(workflow.id)
        view = None
        if last is not None and last.id is not None:
            view = await self._passes.view(last.id)
        return Shown(workflow, graph, view)

    async def endings(self) -> list[Ending]:
        """Passes that ended and were not announced; each is claimed here once."""
        out = []
        for run in await self._store.unannounced_passes():
            if run.id is None or run.finished_at is None or run.workflow_id is None:
                continue
            if not await self._store.mark_announced(run.id, run.finished_at, now=self._clock.now()):
                continue
            workflow = await self._store.get_workflow(run.workflow_id)
            if workflow is None:
                continue
            owner = (
                await self._store.get_member(workflow.owner_id)
                if workflow.owner_id is not None
                else None
            )
            graph = await self._store.workflow_graph(run.workflow_id)
            first = run.start_task_id or next(iter(graph.order), None)
            out.append(Ending(workflow, run, owner, ending_text(workflow, run), first))
        return out

    # --- helpers -----------------------------------------------------------------

    async def _on_step(self, task_id: int, actor: Member, verb: str) -> tuple[int, Node]:
        self._may_change(actor)
        task = await self._store.get_task(task_id, workspace_id=actor.workspace_id)
        assert task.id is not None
        pass_id = await self._store.latest_pass_of_task(task.id)
        if pass_id is None:
            raise NotFound(
                f"'{task.title}' has not run in a workflow yet.",
                hint="Start its workflow first.",
            )
        now = self._clock.now()
        if verb == "rerun":
            fired = await self._passes.rerun(pass_id, task.id, now=now)
        elif verb == "clear":
            note = f"failure cleared by {actor.display_name or actor.platform_user_id}"
            fired = await self._passes.clear(pass_id, task.id, note=note, now=now)
        else:
            fired = await self._passes.run_anyway(pass_id, task.id, now=now)
        self._hand_over(fired)
        await self._audit(
            actor, f"workflow.{verb}", task.id, {"workflow_run": str(pass_id), "verb": verb}
        )
        view = await self._passes.view(pass_id)
        return pass_id, view.graph.nodes[task.id]

    async def _finished_in_pass(self, task_id: int) -> bool:
        pass_id = await self._store.latest_pass_of_task(task_id)
        if pass_id is None:
            return False
        state = (await self._passes.view(pass_id)).latest.get(task_id)
        return state is not None and state.status is RunStatus.COMPLETED

    async def _graph(self, workflow: Workflow) -> Graph:
        assert workflow.id is not None
        return await self._store.workflow_graph(workflow.id)

    @staticmethod
    def _step(graph: Graph, text: str) -> Node:
        return find_step(graph, text)

    async def _hand_over_now(self, fired: Sequence[FiredRun]) -> None:
        self._hand_over(fired)

    def _hand_over(self, fired: Sequence[FiredRun]) -> None:
        runnable = [f for f in fired if f.status is RunStatus.PENDING]
        if runnable and self.handover is not None:
            self.handover.submit(runnable)

    @staticmethod
    def _may_change(actor: Member) -> None:
        if not may_change_tasks(actor):
            raise PermissionDenied(
                "Viewers cannot change workflows.",
                hint="Ask a workspace admin to give you the member role.",
            )

    async def _audit(
        self, actor: Member, action: str, task_id: int | None, details: dict[str, str]
    ) -> None:
        await record_action(
            self._store, self._clock, actor, action, task_id=task_id, details=details
        )


def find_step(graph: Graph, text: str) -> Node:
    """The step ``text`` names: its title, or the part after "<subject>: ", or a unique part."""
    wanted = " ".join(text.split()).casefold()
    nodes = list(graph.nodes.values())
    for match in (
        lambda t: t == wanted,
        lambda t: t.partition(": ")[2] == wanted,
        lambda t: wanted in t,
    ):
        found = [n for n in nodes if match(n.title.casefold())]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(f"'{n.title}'" for n in found)
            raise InvalidInput(f"'{text}' could be {names}.", hint="Say which one.")
    raise NotFound(f"No step of this workflow is called '{text}'.", hint="Show the workflow.")


def ending_text(workflow: Workflow, run: WorkflowRun) -> str:
    if run.status == "failed":
        step = f" at '{run.failed_step}'" if run.failed_step else ""
        return f"Workflow '{workflow.name}' failed{step} (run {run.id})."
    return f"Workflow '{workflow.name}' finished: every step is done (run {run.id})."
