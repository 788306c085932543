"""Task references and people for the intents that act on existing tasks.

"mark 42 as done" → ``42``; "why did the backup fail?" → ``the backup``;
"assign 12 to bob" → ref ``12``, assignee ``bob``; "what is alice working on" → ``alice``.
"""

from __future__ import annotations

from core.intents.assignment import names_to_clause_end
from core.intents.lexicon import DELETE_VERBS, POLITE_WORDS, UPDATE_VERBS
from core.intents.model import IntentKind
from core.intents.title import as_ref, leftover, render, trim
from core.intents.tokens import Kind, Token
from core.intents.words import norm_at

_COMMON = POLITE_WORDS | {
    "!",
    ".",
    "?",
    "again",
    "already",
    "also",
    "asap",
    "cool",
    "got",
    "great",
    "immediately",
    "it,",
    "now",
    "right",
    "thanks",
    "yeah",
    "yep",
    "yes",
}
_DROP: dict[IntentKind, frozenset[str]] = {
    IntentKind.COMPLETE_TASK: frozenset(
        {
            "done",
            "finished",
            "finish",
            "completed",
            "complete",
            "mark",
            "marked",
            "as",
            "with",
            "is",
            "are",
            "it's",
            "closed",
            "close",
            "resolved",
            "fixed",
            "shipped",
            "did",
            "tick",
            "check",
            "off",
            "✅",
            "✔",
            "have",
            "i've",
            "we've",
            "set",
            "to",
            "that's",
            "resolve",
            "all",
            "i'm",
            "we're",
        }
    ),
    IntentKind.DELETE_TASK: DELETE_VERBS
    | {
        "about",
        "any",
        "anymore",
        "do",
        "don't",
        "dont",
        "longer",
        "me",
        "messaging",
        "mind",
        "more",
        "nagging",
        "needed",
        "never",
        "nevermind",
        "no",
        "not",
        "notifying",
        "nvm",
        "pinging",
        "remind",
        "reminders",
        "reminding",
        "sending",
        "us",
    },
    IntentKind.RUN_TASK: frozenset(
        {
            "run",
            "trigger",
            "execute",
            "rerun",
            "retry",
            "kick",
            "off",
            "fire",
            "launch",
            "start",
            "exec",
            "redo",
            "manually",
            "once",
            "more",
            "time",
            "one",
        }
    ),
    IntentKind.SHOW_HISTORY: frozenset(
        {
            "why",
            "did",
            "does",
            "do",
            "how",
            "often",
            "show",
            "me",
            "last",
            "recent",
            "latest",
            "failed",
            "fail",
            "fails",
            "failing",
            "failures",
            "runs",
            "run",
            "ran",
            "history",
            "log",
            "logs",
            "when",
            "stats",
            "statistics",
            "errors",
            "what",
            "happened",
            "with",
            "to",
            "is",
            "was",
            "succeed",
            "succeeded",
            "many",
            "times",
            "has",
            "have",
            "get",
            "give",
            "see",
            "list",
            "all",
            "past",
            "previous",
            "executions",
            "uptime",
            "crashed",
            "broke",
            "keep",
            "keeps",
            "doesn't",
            "didn't",
            "it's",
            "the",
            "reliability",
            "are",
            "of",
            "for",
            "on",
            "in",
            "outcome",
            "duration",
            "long",
            "take",
            "takes",
            "this",
            "week",
            "month",
            "year",
            "today",
            "yesterday",
            "night",
            "so",
            "far",
            "since",
            "usually",
            "typically",
            "normally",
            "generally",
            "recently",
            "lately",
            "still",
            "time",
            "average",
            "runtime",
            "wasn't",
            "isn't",
            "hasn't",
            "not",
            "work",
            "working",
            "ever",
            "go",
            "went",
            "slow",
            "late",
            "early",
        }
    ),
    IntentKind.UPDATE_TASK: UPDATE_VERBS
    | {"add", "as", "back", "call", "deadline", "from", "is", "me", "now", "over"},
    IntentKind.SNOOZE: frozenset(
        {
            "snooze",
            "later",
            "postpone",
            "remind",
            "me",
            "again",
            "for",
            "delay",
            "ask",
            "not",
            "now",
            "more",
            "please",
            "another",
            "extra",
            "ok",
            "okay",
            "in",
            "then",
            "give",
        }
    ),
}
_HISTORY_KEEP_ARTICLE = frozenset({"the", "my", "our"})
_FIELD_NOUNS = frozenset(
    {"priority", "deadline", "due", "title", "name", "assignee", "owner", "date", "time"}
)
_ASSIGN_VERBS = frozenset({"assign", "reassign", "give", "hand", "transfer"})
_THEIR_THINGS = frozenset({"tasks", "todos", "work", "reminders", "plate", "list"})
_QUESTION_WORDS = frozenset({"what", "who", "which", "anyone", "someone", "everybody"})
_BUSY = frozenset({"working", "doing", "up", "busy"})
_NOT_NAMES = frozenset(
    {
        "the",
        "a",
        "me",
        "it",
        "this",
        "that",
        "them",
        "everyone",
        "team",
        "you",
        "us",
        "next",
        "tomorrow",
        "today",
        "him",
        "her",
    }
)


def task_ref(toks: list[Token], text: str, kind: IntentKind) -> str:
    """The task an intent acts on, from the leftover words."""
    drop = _DROP.get(kind, frozenset()) | _COMMON
    idx = leftover(toks)
    if kind is IntentKind.SHOW_HISTORY:
        # "show the last runs of 7", "logs for the deploy": the object follows of/for.
        idx = _strip_ranges(toks, idx)
        last_of = [p for p, i in enumerate(idx) if toks[i].norm in ("of", "for", "on")]
        if last_of and last_of[-1] + 1 < len(idx):
            return as_ref(toks, idx[last_of[-1] + 1 :], text)
        kept = [
            i
            for p, i in enumerate(idx)
            if toks[i].norm not in drop
            or (
                toks[i].norm in _HISTORY_KEEP_ARTICLE
                and p + 1 < len(idx)
                and toks[idx[p + 1]].norm not in drop
            )
        ]
        while len(kept) > 1 and _is_participle(toks[kept[-1]].norm):
            kept.pop()  # "why wasn't the digest posted": the verb, not the name
        return as_ref(toks, kept, text)
    if kind is IntentKind.UPDATE_TASK:
        idx = _strip_field_words(toks, idx)

    # Command words sit at the edges ("mark … as done", "kick off …", "… now"); inside,
    # the same words belong to the name ("push the vendor call to Thursday").
    def droppable(i: int) -> bool:
        return toks[i].kind is Kind.PUNCT or (toks[i].kind is Kind.WORD and toks[i].norm in drop)

    start, end = 0, len(idx)
    while start < end and droppable(idx[start]):
        start += 1
    while end > start and droppable(idx[end - 1]):
        end -= 1
    return as_ref(toks, idx[start:end], text)


def _is_participle(word: str) -> bool:
    return len(word) > 4 and word.endswith("ed") and not word.endswith("eed")


_RANGE_HEADS = frozenset({"this", "last", "past", "previous", "so"})
_RANGE_UNITS = frozenset(
    {"week", "month", "year", "night", "quarter", "far", "weekend", "hour", "day", "sprint"}
)


def _strip_ranges(toks: list[Token], idx: list[int]) -> list[int]:
    # "… this month", "… last night", "… yesterday": a period to look at, not a name.
    kept: list[int] = []
    skip = 0
    for p, i in enumerate(idx):
        if skip:
            skip -= 1
            continue
        word = toks[i].norm
        nxt = toks[idx[p + 1]].norm if p + 1 < len(idx) else ""
        if word in _RANGE_HEADS and nxt in _RANGE_UNITS:
            skip = 1
            continue
        if word in ("today", "yesterday", "tonight"):
            continue
        if word in ("on", "in") and nxt == "average":  # "how long … take on average"
            skip = 1
            continue
        kept.append(i)
    return kept


def _strip_field_words(toks: list[Token], idx: list[int]) -> list[int]:
    # "change the priority of X to …" → X
    for p, i in enumerate(idx):
        if (
            toks[i].norm in _FIELD_NOUNS
            and p + 1 < len(idx)
            and toks[idx[p + 1]].norm in ("of", "for", "on")
        ):
            start = p
            while start and toks[idx[start - 1]].norm in ("the", "a", "due", "its", "my"):
                start -= 1
            return idx[:start] + idx[p + 2 :]
    return idx


def take_bare_assignee(toks: list[Token]) -> list[str]:
    """ "assign 12 to bob", "give the deck to alice and kim" → the names after the last "to"."""
    words = [t.norm for t in toks if not t.used]
    if not words or words[0] not in _ASSIGN_VERBS:
        return []
    for i in range(len(toks) - 1, 0, -1):
        if toks[i].used or toks[i].norm != "to":
            continue
        names, end = names_to_clause_end(toks, i + 1)
        tail = [t for t in toks[end:] if not t.used and t.kind is not Kind.PUNCT]
        if names and not tail and toks[i + 1].kind is Kind.WORD:
            if toks[i + 1].norm in _NOT_NAMES:
                return []
            for tok in toks[i:end]:
                tok.used = True
            return names
        return []
    return []


def rename_title(toks: list[Token], text: str) -> str | None:
    """ "rename 5 to 'Q4 plan'" / "call it X" → the new title (its tokens marked used)."""
    words = [(i, t) for i, t in enumerate(toks) if not t.used]
    if not words or words[0][1].norm not in ("rename", "retitle", "call"):
        return None
    for pos, (i, tok) in enumerate(words):
        if tok.norm in ("to", "as", "into") or (pos == 1 and words[0][1].norm == "call"):
            rest = trim(toks, [j for j, _ in words[pos + 1 :]])
            if not rest:
                return None
            title = (
                toks[rest[0]].value
                if toks[rest[0]].kind is Kind.QUOTE
                else render(toks, rest, text)
            )
            for j in [i, *rest]:
                toks[j].used = True
            return title
    return None


def list_people(toks: list[Token]) -> list[str]:
    """Whose tasks a list question asks about: "what is alice working on", "my tasks"."""
    people = [t.value for t in toks if t.kind is Kind.USER]
    for i, tok in enumerate(toks):
        word = tok.norm
        if tok.kind is not Kind.WORD:
            continue
        if word == "me" and norm_at(toks, i - 1) in ("show", "give", "tell", "send", "get"):
            continue  # "show me …" names the reader, not whose tasks
        if word in ("my", "i", "me", "mine") and "me" not in people:
            people.append("me")
        elif word == "is" and norm_at(toks, i + 1) in _BUSY and i > 0:
            name = toks[i - 1]
            if name.kind is Kind.WORD and name.norm not in _NOT_NAMES | _QUESTION_WORDS:
                people.append(name.text)
        elif word in ("is", "what's", "whats", "are") and norm_at(toks, i + 2) in _BUSY:
            name = toks[i + 1]
            if name.kind is Kind.WORD and name.norm not in _NOT_NAMES:
                people.append(name.text)
        elif word.endswith("'s") and norm_at(toks, i + 1) in _THEIR_THINGS:
            people.append(tok.text[:-2])
        elif (
            word == "for"
            and norm_at(toks, i + 2) in ("", "?", ".", "!")
            and i + 1 < len(toks)
            and toks[i + 1].kind is Kind.WORD
            and toks[i + 1].norm not in _NOT_NAMES | _RANGE_UNITS | {"now", "later", "week"}
        ):  # "what's overdue for alice?"
            people.append(toks[i + 1].text)
        elif word in ("for", "to") and norm_at(toks, i - 1) in ("tasks", "assigned", "todos"):
            after = toks[i + 1] if i + 1 < len(toks) else None
            if after is not None and after.kind is Kind.WORD and after.norm not in _NOT_NAMES:
                people.append(after.text)
    return people
