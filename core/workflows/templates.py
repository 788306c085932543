"""Workflow templates: the steps and edges of common workflows (pure data).

``steps`` are step names in order; ``edges`` name ``(before, after)`` pairs.
Starting a template makes one task per step, titled ``"<subject>: <step>"``;
the workflow is an ordinary one afterwards (add, remove and rewire steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from core.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Template:
    key: str
    label: str
    steps: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]

    def name_for(self, subject: str) -> str:
        return f"{self.label} {subject}".strip()


def _chain(*steps: str) -> tuple[tuple[str, str], ...]:
    return tuple(pairwise(steps))


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "feature",
            "feature",
            ("code", "unit tests", "review", "merge"),
            _chain("code", "unit tests", "review", "merge"),
        ),
        Template(
            "release",
            "release",
            ("build", "test", "changelog", "tag", "deploy", "announce"),
            (
                ("build", "test"),
                ("build", "changelog"),
                ("test", "tag"),
                ("changelog", "tag"),
                ("tag", "deploy"),
                ("deploy", "announce"),
            ),
        ),
        Template(
            "bugfix",
            "bug fix",
            ("reproduce", "fix", "test", "review", "deploy"),
            _chain("reproduce", "fix", "test", "review", "deploy"),
        ),
    )
}

#: Words people use for each template.
_ALIASES = {
    "feature": "feature",
    "feature development": "feature",
    "release": "release",
    "bug fix": "bugfix",
    "bugfix": "bugfix",
    "bug": "bugfix",
    "hotfix": "bugfix",
}


def template(name: str) -> Template:
    key = _ALIASES.get(name.strip().lower().replace("-", " "))
    if key is None:
        raise InvalidInput(
            f"There is no {name!r} workflow template.",
            hint="Templates: feature development, release, bug fix.",
        )
    return TEMPLATES[key]
