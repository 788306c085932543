"""A generated team history: tasks and job runs shaped like a real team's.

Used by the estimate backtest (``kairos bench estimates``) and by the tests of
reports and charts. The model, so that nobody has to read the code to judge it:

- **Kinds of work** (22): each has title templates ("deploy {service} v{n}",
  "fix {component} bug in {service}", "write docs for {feature}" …) and a median
  duration from 40 minutes (a customer call) to two weeks (a migration). The
  template slots share words across kinds (services, components, features),
  so a title's nouns alone do not give its kind away.
- **People** (12): each has a speed factor (log-normal, σ 0.3: roughly 0.6–1.6×)
  and a home channel where most of their work is filed.
- **Channels** (6): each has a factor (log-normal, σ 0.2: review and
  hand-offs are slower in some teams).
- **Noise**: every duration is multiplied by log-normal noise (σ 0.5), and one
  task in ten is blocked for a while (× 2–5): the tail real teams have.
- **Time**: tasks are created over ~200 days during working hours; due times
  are what the creator planned (the kind's median × 0.6–1.8), so some are late.

``duration = kind median × person × channel × noise (× blocked)``. The
estimator is told none of these factors; it sees titles, people, channels and
past durations only, like in production.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.insight.facts import RunFact, TaskFact

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

SERVICES = ["api", "billing", "search", "auth", "web", "mobile", "payments", "ingest"]
COMPONENTS = ["login", "cache", "queue", "export", "upload", "checkout", "sync", "reports"]
FEATURES = ["dark mode", "sso", "invoices", "onboarding", "notifications", "audit log"]
CLIENTS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"]

#: kind → (median hours, title templates)
KINDS: dict[str, tuple[float, tuple[str, ...]]] = {
    "deploy": (1.0, ("deploy {service} v{n}", "release {service} {n}.{m}")),
    "hotfix": (3.0, ("hotfix {component} in {service}", "patch {service} {component} crash")),
    "bug": (10.0, ("fix {component} bug in {service}", "bug: {component} fails on {service}")),
    "review": (2.5, ("review PR #{pr}", "code review {service} {component}")),
    "docs": (8.0, ("write docs for {feature}", "document {service} {component} api")),
    "feature": (60.0, ("build {feature} for {service}", "implement {feature}")),
    "design": (20.0, ("design {feature} mockups", "ux research for {feature}")),
    "migration": (300.0, ("migrate {service} to postgres {n}", "move {service} off legacy")),
    "deps": (4.0, ("update dependencies of {service}", "bump {service} deps")),
    "incident": (5.0, ("investigate {component} alert", "postmortem for {service} outage")),
    "call": (0.7, ("customer call with {client}", "call {client} about {feature}")),
    "proposal": (16.0, ("write proposal for {client}", "quote {feature} for {client}")),
    "onboard": (30.0, ("onboard {client}", "set up {client} workspace")),
    "report": (12.0, ("prepare monthly report", "quarterly numbers for {client}")),
    "planning": (2.0, ("plan sprint {n}", "sprint {n} retro")),
    "hiring": (1.5, ("interview candidate {n}", "screen candidate for {service} team")),
    "tests": (6.0, ("add tests for {component}", "flaky test in {service} {component}")),
    "perf": (24.0, ("speed up {component} in {service}", "profile {service} {component}")),
    "security": (14.0, ("rotate {service} keys", "security review of {feature}")),
    "support": (1.2, ("answer {client} ticket {pr}", "support: {client} cannot {component}")),
    "infra": (18.0, ("provision {service} cluster", "terraform {service} {component}")),
    "cleanup": (3.5, ("remove dead code in {service}", "clean up {component} flags")),
}
CHANNELS = ["eng", "ops", "design", "sales", "support", "data"]
#: Which channel a kind of work is filed in, when not in the person's home channel.
KIND_CHANNEL = {
    "deploy": "ops", "hotfix": "ops", "incident": "ops", "infra": "ops", "security": "ops",
    "design": "design", "call": "sales", "proposal": "sales", "onboard": "sales",
    "report": "data", "support": "support",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    speed: float
    home: str


def _title(rng: random.Random, template: str) -> str:
    return template.format(
        service=rng.choice(SERVICES),
        component=rng.choice(COMPONENTS),
        feature=rng.choice(FEATURES),
        client=rng.choice(CLIENTS),
        n=rng.randint(2, 40),
        m=rng.randint(0, 9),
        pr=rng.randint(100, 9999),
    )


def people(rng: random.Random) -> list[Person]:
    names = ["ana", "bob", "chen", "dara", "eli", "fay", "gus", "hana", "ivo", "jo", "kim", "lea"]
    return [Person(n, math.exp(rng.gauss(0, 0.3)), rng.choice(CHANNELS)) for n in names]


def generate_tasks(count: int = 5000, *, seed: int = 7) -> list[TaskFact]:
    """``count`` finished tasks in creation order (see the module docstring)."""
    rng = random.Random(seed)
    team = people(rng)
    channel_factor = {c: math.exp(rng.gauss(0, 0.2)) for c in CHANNELS}
    kinds = list(KINDS)
    span = timedelta(days=200).total_seconds()
    tasks: list[TaskFact] = []
    for created in sorted(rng.random() * span for _ in range(count)):
        person = rng.choice(team)
        kind = rng.choice(kinds)
        median, templates = KINDS[kind]
        channel = person.home if rng.random() < 0.6 else KIND_CHANNEL.get(kind, person.home)
        hours = median * person.speed * channel_factor[channel] * math.exp(rng.gauss(0, 0.5))
        if rng.random() < 0.1:
            hours *= rng.uniform(2, 5)
        start = START + timedelta(seconds=created)
        start = start.replace(hour=8 + rng.randint(0, 9))
        tasks.append(
            TaskFact(
                id=len(tasks) + 1,
                title=_title(rng, rng.choice(templates)),
                kind="task",
                status="done",
                created_at=start,
                due=start + timedelta(hours=median * rng.uniform(0.6, 1.8)),
                completed_at=start + timedelta(hours=hours),
                channel=channel,
                assignees=(person.name,),
            )
        )
    return tasks


def generate_runs(
    *, jobs: int = 6, days: int = 60, seed: int = 11
) -> tuple[list[TaskFact], list[RunFact]]:
    """Daily job runs: each job has its own typical duration and failure rate."""
    rng = random.Random(seed)
    names = ["nightly backup", "sync crm", "build docs", "db vacuum", "export billing", "ping api"]
    job_facts: list[TaskFact] = []
    runs: list[RunFact] = []
    for n in range(jobs):
        task_id = 10_000 + n
        job_facts.append(
            TaskFact(id=task_id, title=names[n % len(names)], kind="job", status="open",
                     created_at=START, channel="ops")
        )  # fmt: skip
        typical_ms = 2_000 * (n + 1) ** 2
        failure_rate = 0.03 * n
        for day in range(days):
            ok = rng.random() >= failure_rate
            runs.append(
                RunFact(
                    task_id=task_id,
                    title=names[n % len(names)],
                    status="completed" if ok else "failed",
                    scheduled_for=START + timedelta(days=day, hours=2),
                    duration_ms=int(typical_ms * math.exp(rng.gauss(0, 0.3))),
                )
            )
    return job_facts, runs
