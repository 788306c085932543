"""Assignment clauses inside a task's text: who it is for, said in words.

"…, assign it to alice and bob", "…; assignees: mona, nick", "task for dana: …",
"alice and bob should prepare the demo". Mentions (``@bob``) are read anywhere by
``core.intents.entities.take_mentions``; these clauses also accept bare names, so
they only match in the shapes above, where a name is the only reading.
"""

from __future__ import annotations

from core.intents.lexicon import GROUP_WORDS
from core.intents.tokens import Kind, Token
from core.intents.words import norm_at

_ASSIGN_VERBS = frozenset({"assign", "assigned", "reassign", "give", "hand"})
#: "give feedback to the team" is content: give/hand need "it" before "to".
_NEEDS_OBJECT = frozenset({"give", "hand"})
_OWNER_NOUNS = frozenset({"assignee", "assignees", "owner", "owners"})
_DELEGATE_VERBS = frozenset({"ask", "get", "tell", "have"})
_MODALS = frozenset({"should", "must", "shall"})
_MODALS_TO = frozenset({"needs", "need", "has", "have"})
_CLAUSE_END = frozenset({"", ",", ";", ".", "!", "and", "due", "by", "with", "-", ")"})
_JOINERS = frozenset({"and", ",", "&"})
_NOT_NAMES = GROUP_WORDS | {
    "a",
    "an",
    "any",
    "anyone",
    "both",
    "each",
    "he",
    "her",
    "him",
    "i",
    "it",
    "its",
    "my",
    "our",
    "she",
    "someone",
    "somebody",
    "that",
    "the",
    "them",
    "these",
    "they",
    "this",
    "those",
    "us",
    "we",
    "who",
    "you",
}


def _name(tok: Token) -> str | None:
    if tok.used:
        return None
    if tok.kind is Kind.USER:
        return tok.value
    if tok.kind is Kind.WORD and tok.norm in ("me", "myself"):
        return "me"
    if tok.kind is Kind.WORD and tok.text.isalpha() and tok.norm not in _NOT_NAMES:
        return tok.text
    return None


def _read_names(toks: list[Token], j: int) -> tuple[list[str], int]:
    """Names joined by and/,/& from ``j`` → (names, end)."""
    names, ends = _name_run(toks, j)
    return names, ends[-1] if ends else j


def _name_run(toks: list[Token], j: int) -> tuple[list[str], list[int]]:
    names: list[str] = []
    ends: list[int] = []
    while j < len(toks):
        name = _name(toks[j])
        if name is None:
            break
        names.append(name)
        j += 1
        ends.append(j)
        if norm_at(toks, j) in _JOINERS and j + 1 < len(toks) and _name(toks[j + 1]) is not None:
            j += 1
            continue
        break
    return names, ends


def names_to_clause_end(toks: list[Token], j: int) -> tuple[list[str], int]:
    """The longest run of names from ``j`` that ends a clause ("to ivan, high priority")."""
    names, ends = _name_run(toks, j)
    for count in range(len(names), 0, -1):
        if norm_at(toks, ends[count - 1]) in _CLAUSE_END:
            return names[:count], ends[count - 1]
    return [], j


def _use(toks: list[Token], start: int, end: int) -> None:
    while norm_at(toks, start - 1) in (",", ";", "and", "-"):
        start -= 1  # the glue before the clause: "…, assign it to X"
    for tok in toks[start:end]:
        tok.used = True


def take_assignment(toks: list[Token], lead_at: int) -> list[str]:
    """The people an assignment clause names (its tokens marked used), else ``[]``."""
    found = _leading_names(toks, lead_at)
    if found:
        return found
    for i, tok in enumerate(toks):
        word = norm_at(toks, i)
        if word in _ASSIGN_VERBS:
            k = i + 1
            if norm_at(toks, k) in ("it", "this", "them"):
                k += 1
            elif word in _NEEDS_OBJECT:
                continue
            if norm_at(toks, k) != "to":
                continue
            names, end = names_to_clause_end(toks, k + 1)
            if names:
                _use(toks, i, end)
                return names
        elif word in _OWNER_NOUNS and norm_at(toks, i + 1) in (":", "=", "is", "are"):
            names, end = names_to_clause_end(toks, i + 2)
            if names:
                _use(toks, i, end)
                return names
        elif word == "for" and tok.kind is Kind.WORD:
            # "task for dana: migrate the wiki" — the colon makes the bare name sure
            names, end = _read_names(toks, i + 1)
            if names and norm_at(toks, end) in (":", "-"):
                for used in toks[i : end + 1]:
                    used.used = True
                return names
    return []


def names_then_modal(toks: list[Token], lead_at: int) -> tuple[list[str], int] | None:
    """ "alice and bob should …", "@dana needs to …" at the start → (names, end of modal)."""
    names, end = _read_names(toks, lead_at)
    if not names or len(names) > 4:
        return None
    only = toks[lead_at]
    if len(names) == 1 and only.kind is Kind.WORD and only.text.islower() and only.norm[-1] == "s":
        return None  # "tests should pass", "backups must run": a plural noun, not a person
    word = norm_at(toks, end)
    if word in _MODALS:
        return names, end + 1
    if word in _MODALS_TO and norm_at(toks, end + 1) == "to":
        return names, end + 2
    return None


def delegation(toks: list[Token], lead_at: int) -> tuple[list[str], int] | None:
    """ "get bob to fix the printer", "ask kim and lee to review the PR" → (names, end)."""
    if norm_at(toks, lead_at) not in _DELEGATE_VERBS:
        return None
    names, end = _read_names(toks, lead_at + 1)
    if names and norm_at(toks, end) == "to":
        return names, end + 1
    return None


def _leading_names(toks: list[Token], lead_at: int) -> list[str]:
    found = names_then_modal(toks, lead_at) or delegation(toks, lead_at)
    if found is None:
        return []
    names, end = found
    for tok in toks[lead_at:end]:
        tok.used = True
    return names
