"""Titles and task references from the words nobody else claimed.

After the schedule, people, channel, priority and action extractors have marked
their tokens, the rest is the task's name — minus the command words in front
("remind me to", "add a task", "mark … as done") and the glue left dangling at
either end ("to", "about", "and", ",").
"""

from __future__ import annotations

from core.intents.lexicon import GROUP_WORDS, POLITE_WORDS, THIS_WORDS
from core.intents.tokens import Kind, Token

#: Words that may stand between the verb and the title ("remind the team in #ops to …").
_RECIPIENTS = GROUP_WORDS | {"guys", "y'all", "yall", "whole", "entire", "of"}
_LINKS = frozenset(
    {"to", "about", "that", "of", "re", "regarding", "on", "for", ":", "-", "—", "abt", "re:", ","}
)
_EDGE_GLUE = frozenset(
    {
        "to",
        "about",
        "that",
        "and",
        ",",
        ".",
        ":",
        ";",
        "-",
        "—",
        "please",
        "pls",
        "then",
        "!",
        "?",
        "(",
        ")",
        "the",
        "a",
        "an",
        "&",
    }
)
#: Dropped only at the start ("on Friday" eaten, "check in" / "the rent is due" kept).
_LEAD_ONLY_GLUE = frozenset({"at", "on", "by", "for", "in", "with", "due", "is", "it's", "'s"})
_LEAD_GLUE_KEEP = frozenset({"the", "a", "an"})
_TASK_NOUNS = frozenset(
    {"task", "todo", "ticket", "item", "issue", "card", "reminder", "to-do", "action"}
)
_TASK_LINKS = frozenset({"to", ":", "-", "called", "named", "titled", "for", "that", "—"})
_NEED = frozenset({"need", "needs", "must", "should", "gotta", "have", "has", "want"})


def leftover(toks: list[Token]) -> list[int]:
    """Indexes of the tokens no extractor used."""
    return [i for i, tok in enumerate(toks) if not tok.used]


def render(toks: list[Token], idx: list[int], text: str) -> str:
    """Rebuild words from the original text, keeping spacing inside unbroken runs."""
    out: list[str] = []
    prev = -2
    for i in idx:
        tok = toks[i]
        if out and i == prev + 1:
            out.append(text[toks[prev].end : tok.start] + tok.text)
        elif out and tok.kind is Kind.PUNCT and tok.text in ",.;:!?":
            if toks[prev].kind is not Kind.PUNCT:  # a gap between two commas: keep one
                out.append(tok.text)
        else:
            out.append((" " if out else "") + tok.text)
        prev = i
    return "".join(out).strip()


def trim(toks: list[Token], idx: list[int], *, keep_articles: bool = True) -> list[int]:
    """Drop glue words and punctuation at both ends."""
    lead_ok = _LEAD_GLUE_KEEP if keep_articles else frozenset()
    lead_glue = (_EDGE_GLUE | _LEAD_ONLY_GLUE) - lead_ok
    while idx and (toks[idx[0]].norm in lead_glue or toks[idx[0]].kind is Kind.PUNCT):
        idx = idx[1:]
    while idx and (toks[idx[-1]].norm in _EDGE_GLUE or toks[idx[-1]].kind is Kind.PUNCT):
        if toks[idx[-1]].text == ")" and any(toks[i].text == "(" for i in idx):
            break
        idx = idx[:-1]
    return idx


#: Politeness and address words that may open a request before its verb.
_LEAD_COURTESY = POLITE_WORDS | {",", "so", "would"}


def strip_lead(toks: list[Token], idx: list[int], verbs: frozenset[str]) -> list[int]:
    """Remove politeness, one command verb and what links it to the object."""
    k = 0
    while k < len(idx) and toks[idx[k]].norm in _LEAD_COURTESY:
        k += 1
    if k < len(idx) and toks[idx[k]].norm in verbs:
        k += 1
    return idx[k:]


#: Longer openings of a reminder ("don't let me forget to X", "set a reminder to X").
_REMINDER_OPENINGS = (
    ("don't", "let", "me", "forget"),
    ("do", "not", "let", "me", "forget"),
    ("set", "a", "reminder"),
    ("add", "a", "reminder"),
    ("create", "a", "reminder"),
    ("new", "reminder"),
    ("make", "a", "reminder"),
    ("set", "reminder"),
    ("remember",),
    ("don't", "forget"),
    ("dont", "forget"),
    ("do", "not", "forget"),
    ("make", "sure"),
    ("set", "an", "alarm"),
    ("set", "alarm"),
)


def _strip_opening(toks: list[Token], idx: list[int]) -> list[int]:
    words = [toks[i].norm for i in idx]
    start = 0
    while start < len(words) and words[start] in (
        "please",
        "pls",
        "hey",
        "kairos",
        ",",
        "can",
        "you",
        "could",
    ):
        start += 1
    for opening in _REMINDER_OPENINGS:
        if tuple(words[start : start + len(opening)]) == opening:
            return idx[start + len(opening) :]
    return idx


def reminder_title(toks: list[Token], text: str, verbs: frozenset[str]) -> str | None:
    """ "remind me to X" / "nudge @bob about X" / "ping #eng to X" → X."""
    idx = strip_lead(toks, _strip_opening(toks, leftover(toks)), verbs)
    k = 0
    while k < len(idx) and toks[idx[k]].norm in _RECIPIENTS:
        k += 1
    if k < len(idx) and toks[idx[k]].norm in _LINKS:
        rest = idx[k + 1 :]
        idx = rest if rest else idx
    elif k and k < len(idx) and toks[idx[k - 1]].norm in ("the", "a"):
        idx = idx[k - 1 :]
    else:
        idx = idx[k:]
    idx = _drop_inner(toks, idx, ("remind", "reminder"))
    return render(toks, trim(toks, idx), text) or None


def _drop_inner(toks: list[Token], idx: list[int], words: tuple[str, ...]) -> list[int]:
    # "every weekday at 8:30 remind #standup to post updates": the verb sits mid-sentence.
    for pos, i in enumerate(idx):
        if toks[i].norm in words:
            after = idx[pos + 1 :]
            k = 0
            while k < len(after) and toks[after[k]].norm in _RECIPIENTS:
                k += 1
            if k < len(after) and toks[after[k]].norm in _LINKS:
                return (
                    idx[:pos] + after[k + 1 :] if pos == 0 or not after[k + 1 :] else after[k + 1 :]
                )
    return idx


def task_title(toks: list[Token], text: str, verbs: frozenset[str]) -> str | None:
    """ "add task X" / "todo: X" / "@alice please X" / "I need to X" → X (a quoted X wins)."""
    for tok in toks:
        if tok.kind is Kind.QUOTE and not tok.used:
            tok.used = True
            return tok.value
    idx = strip_lead(toks, leftover(toks), verbs)
    k = 0
    while k < len(idx) and toks[idx[k]].norm in {"a", "an", "the", "new", "my", "me", "us"}:
        k += 1
    if k < len(idx) and toks[idx[k]].norm in _TASK_NOUNS:
        idx = idx[k + 1 :]
        while idx and toks[idx[0]].norm in _TASK_LINKS:
            idx = idx[1:]
    elif idx and toks[idx[0]].norm in _NEED:
        idx = idx[1:]
        if idx and toks[idx[0]].norm == "to":
            idx = idx[1:]
    elif idx and toks[idx[0]].norm in (":", "-"):
        idx = idx[1:]
    return render(toks, trim(toks, idx), text) or None


def as_ref(toks: list[Token], idx: list[int], text: str) -> str:
    """A task reference: an id ("42", "#42", "task 42") or words; nothing/"it" → "this"."""
    idx = trim(toks, idx)
    numbers = [toks[i] for i in idx if toks[i].kind in (Kind.REF, Kind.NUM)]
    rest = [toks[i].norm for i in idx if toks[i].kind not in (Kind.REF, Kind.NUM)]
    if len(numbers) == 1 and all(
        w in ("task", "job", "reminder", "number", "no", "id", "#", "to", "of", "on", "for", "from")
        for w in rest
    ):
        return numbers[0].value
    quoted = [toks[i] for i in idx if toks[i].kind is Kind.QUOTE]
    if len(quoted) == 1 and all(
        toks[i].kind is Kind.QUOTE or toks[i].norm in ("task", "the") for i in idx
    ):
        return quoted[0].value  # "mark 'buy milk' as done"
    words = render(toks, idx, text)
    if not words or words.lower() in THIS_WORDS:
        return "this"
    return words
