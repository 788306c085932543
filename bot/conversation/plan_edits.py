"""What people say to change a plan waiting for approval, read into a plan edit.

* "remove step 3" (also *delete*, *drop*)
* "rename step 2 to draft the summary" (also "change step 2 to …")
* "add a step: post the summary to #team after step 4" — a new last step, after the
  last one unless the message says "after step(s) N[, M]" or "at the start". A step
  that says *post/send/announce … to #channel* posts there (a notify step); one that
  says *summarize/draft/classify/analyse …* is an AI step; anything else is a task a
  person does.

The edits themselves are ``core.planning.edits``; the edited plan is checked like
the planner's own proposal before it is shown again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from core.planning.edits import add_step, remove_step, rename_step
from core.planning.plan import Plan

Edit = Callable[[Plan], Plan]

HOW = (
    "Change the plan by saying e.g. 'remove step 3', 'rename step 2 to draft the summary' "
    "or 'add a step: post the summary to #team after step 4' (or '… at the start'). "
    "I show the plan again after each change and check it as before; then Approve or Cancel. "
    "You can also say the goal again for a new plan."
)

_REMOVE = re.compile(r"^(?:remove|delete|drop)\s+step\s+#?(?P<n>\d{1,3})$", re.I)
_RENAME = re.compile(
    r"^(?:rename|retitle|change)\s+step\s+#?(?P<n>\d{1,3})\s+(?:to|as|into)\s*:?\s+(?P<title>.+)$",
    re.I | re.S,
)
_ADD = re.compile(r"^add\s+(?:a\s+|another\s+)?step\s*:?\s+(?P<rest>.+)$", re.I | re.S)
_AFTER = re.compile(
    r"[,;]?\s+after\s+steps?\s+(?P<ns>#?\d{1,3}(?:\s*(?:,|and|&)\s*#?\d{1,3})*)\s*$", re.I
)
_START = re.compile(r"[,;]?\s+(?:at\s+the\s+(?:start|beginning)|first)\s*$", re.I)
_POST = re.compile(
    r"^(?:post|send|announce|share)\s+(?P<what>.+?)\s+(?:to|in|on)\s+#(?P<chan>[\w.-]+)$", re.I
)
_AI = re.compile(r"^(?:summari[sz]e|draft|classify|analy[sz]e|write up)\b", re.I)


def read_edit(text: str) -> Edit | None:
    """The plan edit ``text`` asks for, or ``None`` when it asks for none."""
    text = " ".join(text.strip().rstrip(".!").split())
    if m := _REMOVE.match(text):
        return partial(remove_step, number=int(m["n"]))
    if m := _RENAME.match(text):
        return partial(rename_step, number=int(m["n"]), title=m["title"].strip(" '\""))
    if m := _ADD.match(text):
        return _adding(m["rest"])
    return None


def _adding(rest: str) -> Edit:
    after: list[int] | None = None
    if m := _AFTER.search(rest):
        after = [int(n) for n in re.findall(r"\d+", m["ns"])]
        rest = rest[: m.start()]
    elif m := _START.search(rest):
        after = []
        rest = rest[: m.start()]
    title = rest.strip(" '\"")
    action: dict[str, Any] | None = None
    channel: str | None = None
    if m := _POST.match(title):
        action, channel = {"type": "notify", "message": m["what"]}, m["chan"]
    elif _AI.match(title):
        action = {"type": "ai_prompt", "prompt": title}
    return partial(add_step, title=title, action=action, after=after, channel=channel)
