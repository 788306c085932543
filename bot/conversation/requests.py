"""Requests the intent parser has no intent for, recognised by the conversation.

"restore #3", "pause 10", "rename #3 to …", "unassign bob from #5", "add a
comment to #5: …", "retry 10 3 times", "show task 5", "who is on 5", "when is
the next run of 10", "how long will X take", "search for deploy", "set my
timezone to …", "make @ana an admin", "undo", "delete everything". Each
pattern yields a ``Request``; the conversation answers it through the services.
(Candidates for the parser's next intents; they live here until it has them.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REF = r"(?P<ref>#?\d{1,12}|'[^']+'|\"[^\"]+\"|[\w][\w .:/-]*?)"
_WS = r"\s+"


@dataclass(frozen=True, slots=True)
class Request:
    """A recognised request: what to do, on which task (as written), with what."""

    kind: str
    ref: str | None = None
    arg: str | None = None


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*(?:please\s+|kairos,?\s+)?{pattern}\s*[.!?]*\s*$", re.IGNORECASE)


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("undo", _p(r"undo(?:\s+(?:that|it|the last change|my last change))?")),
    (
        "delete_all",
        _p(
            r"(?:delete|remove|cancel|clear)\s+"
            r"(?:everything|all(?:\s+(?:my\s+)?(?:tasks|reminders|of them))?)"
        ),
    ),
    ("restore", _p(rf"(?:restore|undelete|bring back)\s+(?:task\s+)?{_REF}")),
    (
        "reschedule",
        _p(
            rf"(?:move|change|reschedule|set|make)\s+(?:task\s+)?{_REF}\s+(?:to\s+)?"
            r"(?:repeat\s+)?(?P<arg>(?:every|each|daily|weekly|monthly|hourly|weekdays|on weekdays)"
            r"\b.*)"
        ),
    ),
    ("reopen", _p(rf"(?:reopen|re-open|undone|not done)\s+(?:task\s+)?{_REF}")),
    ("pause", _p(rf"(?:pause|suspend|disable|stop)\s+(?:task\s+|job\s+|reminder\s+)?{_REF}")),
    ("resume", _p(rf"(?:resume|unpause|enable|restart)\s+(?:task\s+|job\s+|reminder\s+)?{_REF}")),
    ("rename", _p(rf"rename\s+(?:task\s+)?{_REF}\s+(?:to|as)\s+(?P<arg>.+?)")),
    (
        "unassign",
        _p(rf"(?:unassign|remove)\s+@?(?P<arg>[\w.-]+)\s+from\s+(?:task\s+)?{_REF}"),
    ),
    (
        "comment",
        _p(
            rf"(?:add\s+a\s+|add\s+)?(?:comment|note)\s+(?:to|on)\s+(?:task\s+)?{_REF}\s*:\s*(?P<arg>.+)"
        ),
    ),
    (
        "retry",
        _p(rf"retry\s+(?:task\s+|job\s+)?{_REF}\s+(?P<arg>\d{{1,2}})\s+times?(?:\s+on failure)?"),
    ),
    ("show", _p(rf"(?:show|details of|describe|info on)\s+(?:task|job|reminder)\s+{_REF}")),
    (
        "who",
        _p(
            rf"who(?:'s|\s+is|\s+are)\s+(?:on|assigned\s+to|working\s+on|doing)\s+(?:task\s+)?{_REF}"
        ),
    ),
    (
        "next_run",
        _p(
            rf"when\s+(?:is|will)\s+(?:the\s+)?next\s+(?:run|fire|reminder)\s+(?:of|for)\s+(?:task\s+)?{_REF}"
        ),
    ),
    ("next_run", _p(rf"when\s+(?:does|will)\s+(?:task\s+)?{_REF}\s+(?:run|fire)(?:\s+next)?")),
    (
        "list_done",
        _p(
            r"(?:what(?:'s|\s+is|\s+has\s+been|\s+got)|show(?:\s+me)?|list)\s+"
            r"(?:(?:been|the|my)\s+)?(?:done|completed|finished)(?:\s+(?:tasks|ones|so far))?"
        ),
    ),
    ("next_mine", _p(r"(?:what(?:'s|\s+is)|when(?:'s|\s+is))\s+my\s+next\s+reminder")),
    (
        "how_long",
        _p(rf"how\s+long\s+(?:will|does|would)\s+(?:task\s+)?{_REF}\s+(?:usually\s+)?take"),
    ),
    ("search", _p(r"(?:search|find|look)\s+(?:for\s+)?(?P<arg>.+)")),
    ("set_tz", _p(r"set\s+my\s+(?:time\s*zone|tz)\s+to\s+(?P<arg>[\w/+-]+)")),
    ("set_tz", _p(r"my\s+(?:time\s*zone|tz)\s+is\s+(?P<arg>[\w/+-]+)")),
    (
        "role",
        _p(r"make\s+@?(?P<ref>[\w.-]+)\s+(?:an?\s+)?(?P<arg>owner|admin|member|viewer)"),
    ),
)


def match(text: str) -> Request | None:
    """The request ``text`` makes, if it is one of the patterns above."""
    for kind, pattern in _PATTERNS:
        found = pattern.match(text)
        if found:
            groups = found.groupdict()
            ref = groups.get("ref")
            if ref is not None:
                ref = ref.strip().strip("'\"")
            return Request(kind=kind, ref=ref, arg=(groups.get("arg") or "").strip() or None)
    return None
