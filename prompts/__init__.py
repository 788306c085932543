"""The prompt templates, shipped inside the installed package.

Each ``*.md`` file here starts with a line ``version: N``; the rest is the
template, with ``{name}`` fields filled by ``Prompt.render``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Prompt:
    """One template: its name, version and text."""

    name: str
    version: int
    text: str

    @property
    def tag(self) -> str:
        """``name/vN``, recorded with what the prompt produced."""
        return f"{self.name}/v{self.version}"

    def render(self, **fields: str) -> str:
        """The text with ``{name}`` fields filled (literal braces are written ``{{ }}``)."""
        return self.text.format(**fields) if fields else self.text


@cache
def load(name: str) -> Prompt:
    """The template ``name`` (``prompts/NAME.md``); raises ``FileNotFoundError`` if absent."""
    raw = files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    first, _, rest = raw.partition("\n")
    key, _, value = first.partition(":")
    if key.strip() != "version" or not value.strip().isdigit():
        raise ValueError(f"prompts/{name}.md must start with a 'version: N' line")
    return Prompt(name=name, version=int(value), text=rest.strip() + "\n")
