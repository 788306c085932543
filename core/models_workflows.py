"""Workflows and their runs: named groups of tasks wired by ``task_dependencies``.

A task belongs to at most one workflow (``tasks.workflow_id``) and carries the
trigger rule its incoming edges are judged by (``tasks.trigger_rule``). A
workflow run groups the runs of one pass through the graph
(``runs.workflow_run_id``); ``workflow_id`` is empty for the run of an ad-hoc
chain ("when X is done, do Y" between tasks of no workflow).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UtcDateTime, utcnow


class Workflow(SQLModel, table=True):
    """A named DAG of tasks in one workspace."""

    __tablename__ = "workflows"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    name: str = Field(max_length=200)
    #: What a failed prerequisite does to the tasks after it: ``block`` or ``skip``.
    on_failure: str = Field(default="block", max_length=16)
    template: str | None = Field(default=None, max_length=32)
    owner_id: int | None = Field(default=None, foreign_key="members.id")
    channel_ref: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UtcDateTime(), nullable=False)
    )


class WorkflowRun(SQLModel, table=True):
    """One pass through a workflow (or an ad-hoc chain): its runs point here."""

    __tablename__ = "workflow_runs"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: int | None = Field(default=None, foreign_key="workflows.id", index=True)
    #: ``running``, ``succeeded`` or ``failed``.
    status: str = Field(default="running", max_length=16)
    #: The task whose own run started this pass; empty when the whole workflow was started.
    start_task_id: int | None = Field(default=None, foreign_key="tasks.id")
    started_by: int | None = Field(default=None, foreign_key="members.id")
    failed_step: str | None = Field(default=None, max_length=500)
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UtcDateTime(), nullable=False)
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UtcDateTime(), nullable=True)
    )
    #: A step was rerun, cleared or forced in this pass: release reads the whole graph
    #: (the steps after it are out of date), not only the neighbourhood of what finished.
    reopened: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    #: Set once the owner was told how the pass ended (told once per ending).
    notified_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UtcDateTime(), nullable=True, index=True)
    )
