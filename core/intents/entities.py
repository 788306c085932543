"""Who, where, how important, and after what: assignees, channel, priority, prerequisites.

Each extractor marks the tokens it read (and the little words that glued them
to the sentence, such as "for" in "for @bob" or "in" in "in #eng") as used.
"""

from __future__ import annotations

from core.intents.lexicon import GROUP_WORDS, PRIORITY_WORDS, Priority
from core.intents.tokens import Kind, Token
from core.intents.words import norm_at

_USER_GLUE = frozenset({"for", "to", "cc", "and", ",", "&", "with", "assign", "assigned"})
_CHANNEL_GLUE = frozenset({"in", "to", "on", "into", "at", "for", "channel"})
_ME = frozenset({"me", "myself"})
#: Priority words that are also ordinary words are only read next to "priority".
_PLAIN_PRIORITY = frozenset(
    {"urgent", "critical", "asap", "important", "p0", "p1", "p2", "p3", "blocker"}
)
_PRIORITY_NOUNS = frozenset({"priority", "prio", "pri"})
_IDS = (Kind.NUM, Kind.REF)
_DONE_WORDS = frozenset(
    {
        "done",
        "finished",
        "complete",
        "completed",
        "finishes",
        "completes",
        "ready",
        "merged",
        "shipped",
        "over",
        "closed",
    }
)


def _use(toks: list[Token], start: int, end: int) -> None:
    for tok in toks[start:end]:
        tok.used = True


def take_channel(toks: list[Token]) -> str | None:
    """The channel named (``#eng``, ``#C0123ABC``: ``core.mentions``), without ``#``.

    With several, the destination wins: "a digest of #support to #leads" → ``leads``.
    """
    found = [i for i, tok in enumerate(toks) if tok.kind is Kind.CHANNEL and not tok.used]
    targets = [i for i in found if norm_at(toks, i - 1) in ("to", "in", "into")]
    if not found:
        return None
    i = (targets or found)[0]
    toks[i].used = True
    k = i - 1
    if norm_at(toks, k) == "the":
        k -= 1
    if norm_at(toks, k) in _CHANNEL_GLUE:
        _use(toks, k, i)
    if norm_at(toks, i + 1) == "channel":
        toks[i + 1].used = True
    return toks[i].value


def take_mentions(toks: list[Token], *, me_words: bool = True) -> list[str]:
    """Every person named: ``@bob`` → ``bob``, ``@U024`` → ``U024``; "for me" → ``me``."""
    names: list[str] = []
    for i, tok in enumerate(toks):
        if tok.used:
            continue
        if tok.kind is Kind.USER:
            name = tok.value
        elif me_words and tok.norm in _ME and norm_at(toks, i - 1) in ("for", "to", "and"):
            name = "me"
        else:
            continue
        if name not in names:
            names.append(name)
        tok.used = True
        k = i - 1
        while norm_at(toks, k) in _USER_GLUE:
            toks[k].used = True
            k -= 1
    return names


_NOT_RECIPIENTS = GROUP_WORDS | {
    "a",
    "about",
    "an",
    "anyone",
    "at",
    "her",
    "him",
    "i",
    "it",
    "later",
    "my",
    "of",
    "on",
    "our",
    "so",
    "someone",
    "that",
    "them",
    "then",
    "this",
    "to",
    "we",
    "whoever",
}


def take_bare_recipients(toks: list[Token], verb_at: int) -> list[str]:
    """ "remind bob to …", "nudge alice and carol about …": names written without @."""
    names: list[int] = []
    j = verb_at + 1
    while j < len(toks):
        tok = toks[j]
        if tok.used:
            j += 1
            continue
        if tok.kind is Kind.WORD and tok.norm not in _NOT_RECIPIENTS and tok.text.isalpha():
            names.append(j)
            j += 1
            while j < len(toks) and toks[j].used:
                j += 1
            if norm_at(toks, j) in ("and", ",", "&"):
                j += 1
                continue
        break
    if not names or norm_at(toks, j) not in ("to", "about", "that", "re", "regarding"):
        return []
    for k in range(names[0], names[-1] + 1):
        toks[k].used = toks[k].used or toks[k].norm in ("and", ",", "&") or k in names
    return [toks[k].text for k in names]


def take_priority(toks: list[Token], *, plain_levels: bool = False) -> Priority | None:
    """``urgent``, ``high priority``, ``priority: low``, ``asap`` → a level name.

    ``plain_levels`` also reads a bare "high"/"low" (as in "set 12 to high").
    """
    for i, tok in enumerate(toks):
        word = norm_at(toks, i)
        if not word or tok.kind is not Kind.WORD:
            continue
        if word in PRIORITY_WORDS and norm_at(toks, i + 1) in _PRIORITY_NOUNS:
            _use(toks, _glue_start(toks, i), i + 2)
            return PRIORITY_WORDS[word]
        if word in _PRIORITY_NOUNS:
            j = i + 1
            while norm_at(toks, j) in (":", "=", "is", "to", "of", "-"):
                j += 1
            level = PRIORITY_WORDS.get(norm_at(toks, j))
            if level is not None:
                _use(toks, _glue_start(toks, i), j + 1)
                return level
        if word in _PLAIN_PRIORITY or (plain_levels and word in PRIORITY_WORDS):
            _use(toks, _glue_start(toks, i), i + 1)
            return PRIORITY_WORDS[word]
        if word == "whenever" and norm_at(toks, i + 1) in ("", ",", ".", "!"):
            _use(toks, _glue_start(toks, i), i + 1)
            return "low"
        if word == "no" and norm_at(toks, i + 1) == "rush":
            _use(toks, _glue_start(toks, i), i + 2)
            return "low"
    return None


def _glue_start(toks: list[Token], i: int) -> int:
    # "…, urgent", "with high priority", "as urgent", "mark it as a low priority"
    k = i
    while norm_at(toks, k - 1) in (",", "with", "as", "a", "-", "at", "(", "set"):
        k -= 1
    return k


def take_dependencies(toks: list[Token], *, loose: bool) -> list[str]:
    """Prerequisites: "after 'X' and 'Y'", "after task 12", "once X is done", "blocked by X".

    ``loose`` also reads an unquoted "after X" running to the end of the clause.
    """
    for i, _tok in enumerate(toks):
        word = norm_at(toks, i)
        j = 0
        if word in ("after", "once", "when"):
            j = i + 1
        elif word in ("depends", "depending", "blocked", "waiting") and norm_at(toks, i + 1) in (
            "on",
            "by",
            "for",
        ):
            j = i + 2
        if not j:
            continue
        found, end = _read_refs(toks, j, loose=loose or word != "after", lead=word)
        if found:
            k = i - 1 if norm_at(toks, i - 1) == "," else i
            _use(toks, k, end)
            return found
    return []


def _read_refs(toks: list[Token], j: int, *, loose: bool, lead: str) -> tuple[list[str], int]:
    found: list[str] = []
    while j < len(toks) and not toks[j].used:
        tok = toks[j]
        if tok.kind in (Kind.QUOTE, Kind.REF) or (tok.kind is Kind.NUM and tok.value.isdigit()):
            found.append(tok.value)
            j += 1
        elif tok.norm == "task" and j + 1 < len(toks) and toks[j + 1].kind in _IDS:
            found.append(toks[j + 1].value)
            j += 2
        elif loose and tok.kind is Kind.WORD:
            k = j
            while k < len(toks) and not toks[k].used and toks[k].kind is not Kind.PUNCT:
                if toks[k].norm in ("and", "is", "are", "has", "have", "gets", "get"):
                    break
                if toks[k].norm in _DONE_WORDS:
                    break
                k += 1
            has_done = _done_tail(toks, k) > k
            if k == j or (lead in ("once", "when") and not has_done):
                break
            found.append(" ".join(t.text for t in toks[j:k]))
            j = _done_tail(toks, k)
        else:
            break
        j = _done_tail(toks, j)
        if norm_at(toks, j) in ("and", ",", "&") and j + 1 < len(toks) and not toks[j + 1].used:
            nxt = toks[j + 1]
            if (
                nxt.kind in (Kind.QUOTE, Kind.REF, Kind.NUM)
                or nxt.norm == "task"
                or (loose and nxt.kind is Kind.WORD)
            ):
                j += 1
                continue
        break
    return found, j


def _done_tail(toks: list[Token], k: int) -> int:
    # "X is done", "X has shipped", "X gets merged", "X completes"
    if norm_at(toks, k) in ("is", "are", "has", "have", "gets", "get", "was", "been"):
        if norm_at(toks, k + 1) == "been":
            k += 1
        if norm_at(toks, k + 1) in _DONE_WORDS:
            return k + 2
    if norm_at(toks, k) in _DONE_WORDS:
        return k + 1
    return k
