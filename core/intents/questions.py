"""How-to and capability questions: "how do I …?", "can you run shell scripts?".

Both are ``help``. The hard part is telling "can you run shell scripts?" (what can
Kairos do) from "can you remind me at 5?" or "can you snooze this?" (polite
requests): a capability question uses a capability verb and names no person,
time, object or content.
"""

from __future__ import annotations

from core.intents.tokens import Kind, Token

#: "can you …?" asks what Kairos can do unless it names a person, a time or content.
_ABILITY_LEADS = frozenset({"can", "could"})
_PERSONAL = frozenset({"me", "us", "my", "our", "i"})
_TASK_NOUNS = frozenset({"task", "todo", "reminder", "ticket", "job", "note"})
_NAMED = frozenset({Kind.USER, Kind.REF, Kind.QUOTE, Kind.CODE, Kind.URL, Kind.NUM, Kind.CHANNEL})
#: "can you <verb> …?" asks about a capability with these verbs ("can you run scripts?");
#: "can you show the overdue tasks?" is a request.
_ABILITY_VERBS = frozenset(
    {
        "run",
        "remind",
        "schedule",
        "post",
        "send",
        "handle",
        "do",
        "support",
        "fetch",
        "integrate",
        "understand",
        "work",
        "connect",
        "read",
        "notify",
        "ping",
        "create",
        "make",
        "set",
        "use",
        "track",
        "summarize",
        "summarise",
        "execute",
        "query",
        "talk",
        "repeat",
        "help",
        "manage",
        "watch",
        "monitor",
        "call",
        "trigger",
    }
)


def asks_how(
    lead: str, nxt: str, words: list[str], toks: list[Token], *, timed: bool, action: bool
) -> bool:
    """How-to and capability questions: "how do I …?", "can you run scripts?"."""
    joined = " " + " ".join(words) + " "
    if (
        lead == "how"
        and nxt in ("do", "can", "should", "to", "would")
        and (" how to " in joined or " i " in joined or " we " in joined or " one " in joined)
    ):
        return True
    if lead == "how" and nxt in ("does", "do") and words[-1] in ("work", "?") and " work" in joined:
        return True  # "how does snoozing work?"
    if any(
        p in joined
        for p in (
            " is it possible to ",
            " is there a way to ",
            " are you able to ",
            " do you support ",
            " do you understand ",
            " do you know how ",
            " what kinds of ",
            " what kind of ",
            " what types of ",
            " what type of ",
            " which kinds of ",
            " explain how ",
            " tell me how ",
            " show me how ",
        )
    ):
        return not timed or lead in ("is", "what", "which", "do")
    if (
        words[0] in _ABILITY_LEADS
        and words[1:2] in (["you"], ["kairos"], ["i"], ["we"])
        and words[-1] == "?"
        and (len(words) < 3 or words[2] in _ABILITY_VERBS)
    ):
        # "can you remind me tomorrow…?" is a polite request; "can you run shell scripts?"
        # asks about a capability: no person, time, place, content or object reference.
        named = any(t.kind in _NAMED for t in toks)
        personal = bool(set(words[2:]) & _PERSONAL) if words[1] == "you" else False
        personal = personal or bool(set(words) & {"it", "this", "that"})
        # "can you add a task to renew the VPN?" is a request with its content after "to".
        content = " to " in joined and bool(set(words) & _TASK_NOUNS)
        return not (timed or action or named or personal or content) and " the " not in joined
    return False
