"""Which intent a message expresses, from its leading verb and a few cue words.

Rules are tried in order; the first that fits wins. ``Cues`` carries what the
other extractors already know (a schedule, an action, a code span…), because
"run the backup now" is ``run_task`` while "run `backup.sh` every night" is a job.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.intents.assignment import delegation, names_then_modal
from core.intents.lexicon import (
    DELETE_VERBS,
    NUMBER_WORDS,
    POLITE_WORDS,
    REMIND_VERBS,
    UPDATE_VERBS,
)
from core.intents.model import IntentKind
from core.intents.questions import asks_how
from core.intents.tokens import Kind, Token

#: Words people put before the verb that carries the meaning.
_POLITE = POLITE_WORDS | {
    "!",
    ",",
    "-",
    ":",
    "ahead",
    "also",
    "and",
    "bot",
    "go",
    "have",
    "hello",
    "hi",
    "i'm",
    "i've",
    "now",
    "oh",
    "quick",
    "quickly",
    "so",
    "we've",
    "will",
    "would",
    "yo",
    "—",
}
_HELP_LEADS = frozenset({"help", "commands", "usage", "?", "halp", "manual"})
_UNIT_WORDS = frozenset({"minutes", "minute", "mins", "min", "hour", "hours", "hrs", "h", "m"})
_SNOOZE_LEADS = frozenset({"snooze", "later"})
#: "postpone 10 minutes" snoozes; "postpone the retro to Monday" changes a task.
_SHIFT_LEADS = frozenset({"postpone", "delay", "defer"})
_COMPLETE_LEADS = frozenset(
    {
        "done",
        "finished",
        "completed",
        "complete",
        "finish",
        "closed",
        "close",
        "resolved",
        "fixed",
        "shipped",
        "✅",
        "✔",
        "tick",
        "check",
    }
)
_DONE_WORDS = frozenset({"done", "complete", "completed", "finished", "closed", "resolved"})
_DELETE_LEADS = DELETE_VERBS
_RUN_LEADS = frozenset(
    {
        "run",
        "trigger",
        "execute",
        "rerun",
        "retry",
        "kick",
        "fire",
        "launch",
        "start",
        "exec",
        "redo",
    }
)
#: Verbs that can only mean "run it now", even next to history words ("retry the failed import").
_RERUN_LEADS = frozenset({"retry", "rerun", "trigger", "execute", "kick", "redo"})
_NOT_RUN_OBJECTS = frozenset({"history", "log", "logs", "stats", "statistics", "a", "me"})
_UPDATE_LEADS = UPDATE_VERBS | {"defer", "due"}
_REMIND_LEADS = REMIND_VERBS
_TASK_LEADS = frozenset(
    {
        "add",
        "create",
        "new",
        "todo",
        "task",
        "track",
        "log",
        "note",
        "open",
        "file",
        "need",
        "needs",
        "must",
        "should",
        "gotta",
    }
)
_HISTORY_WORDS = frozenset(
    {
        "history",
        "log",
        "logs",
        "runs",
        "failures",
        "failed",
        "fail",
        "fails",
        "failing",
        "errors",
        "stats",
        "statistics",
        "ran",
        "succeed",
        "succeeded",
        "uptime",
        "outcome",
        "executions",
        "crashed",
        "broke",
        "reliability",
        "duration",
        "runtime",
        "durations",
        "runtimes",
    }
)
#: After "why", a negation asks what went wrong: "why didn't the backup run?".
_NEGATIONS = frozenset(
    {
        "didn't",
        "didnt",
        "wasn't",
        "wasnt",
        "isn't",
        "hasn't",
        "haven't",
        "doesn't",
        "won't",
        "not",
        "never",
        "weren't",
    }
)
_REPORT_WORDS = frozenset(
    {
        "report",
        "summary",
        "summarize",
        "summarise",
        "recap",
        "digest",
        "overview",
        "retro",
        "standup",
    }
)
_LIST_WORDS = frozenset(
    {
        "tasks",
        "todos",
        "reminders",
        "overdue",
        "agenda",
        "jobs",
        "assignments",
        "backlog",
        "list",
        "queue",
        "plate",
        "pending",
    }
)
_QUESTION = frozenset(
    {
        "what",
        "what's",
        "whats",
        "which",
        "show",
        "list",
        "ls",
        "any",
        "anything",
        "is",
        "are",
        "who",
        "how",
        "where",
        "give",
        "get",
        "see",
    }
)


_SETTERS = frozenset({"set", "add", "create", "new", "make", "schedule", "put", "post", "send"})


@dataclass(slots=True)
class Cues:
    """What the grammar found before classification."""

    strong_schedule: bool = False  # "every …", an interval, or an event
    when: bool = False  # a one-off time
    action: bool = False  # code, URL, SQL, or a script path
    ai_verb: bool = False  # summarize/digest/… (a job if scheduled)
    mention_first: bool = False  # "@alice please …"
    deadline: bool = False  # the time was said with "by"/"due"/"before"


def lead_index(toks: list[Token]) -> int:
    """Index of the first token that is not politeness or an address to the bot."""
    i = 0
    while i < len(toks) and (toks[i].norm in _POLITE or toks[i].kind is Kind.PUNCT):
        if toks[i].norm == "?" and i == len(toks) - 1:
            break
        i += 1
    return i


def classify(toks: list[Token], cues: Cues) -> tuple[IntentKind, float]:
    """The intent and how sure the rule that chose it is (0–1)."""
    words = [t.norm for t in toks if t.kind is not Kind.PUNCT or t.norm == "?"]
    if not words or not any(t.kind is not Kind.PUNCT for t in toks):
        return IntentKind.UNKNOWN, 0.1
    lead_at = lead_index(toks)
    lead = toks[lead_at].norm if lead_at < len(toks) else ""
    nxt = toks[lead_at + 1].norm if lead_at + 1 < len(toks) else ""
    joined = " " + " ".join(words) + " "
    wordset = set(words)
    if _is_help(lead, joined, len(words)) or asks_how(
        lead, nxt, words, toks, timed=cues.when or cues.strong_schedule, action=cues.action
    ):
        return IntentKind.HELP, 0.95
    if lead == "give" and nxt == "me" and wordset & _UNIT_WORDS:
        return IntentKind.SNOOZE, 0.8  # "give me 10 minutes"
    if lead in _SHIFT_LEADS and (
        nxt in ("", "for", "until", "till", "a", "an", "half")
        or nxt[:1].isdigit()
        or nxt in NUMBER_WORDS
    ):
        return IntentKind.SNOOZE, 0.85
    if (
        lead in _SNOOZE_LEADS
        or " remind me again" in joined
        or " again in " in joined
        or (lead == "remind" and nxt == "me" and " later " in joined and len(words) <= 4)
        or joined.strip() in ("not now", "ask me again later", "ask me later")
        or (lead == "not" and nxt == "now")
    ):
        return IntentKind.SNOOZE, 0.9
    if _is_complete(lead, nxt, wordset, joined) and not (
        lead in ("finish", "complete") and (cues.when or cues.deadline)
    ):  # "finish the report by Friday" is a task to do
        return IntentKind.COMPLETE_TASK, 0.9
    unassign = any(t.kind is Kind.USER for t in toks) or " me from " in joined
    if (lead in _DELETE_LEADS and not unassign) or any(
        p in joined
        for p in (
            " don't remind ",
            " do not remind ",
            " no more reminders ",
            " stop reminding ",
            " dont remind ",
            " never mind ",
            " nevermind ",
            " nvm ",
        )
    ):
        return IntentKind.DELETE_TASK, 0.9
    if (
        lead == "add"
        and toks[lead_at + 1 : lead_at + 2]
        and toks[lead_at + 1].kind is Kind.USER
        and " to task " in joined
    ) or (lead == "add" and " to #" in joined):
        return IntentKind.UPDATE_TASK, 0.8
    strong_remind = (
        lead in ("remind", "reminder", "remember")
        or " remind " in joined
        or (" let me forget " in joined)
        or (" reminder " in joined and lead in _SETTERS)
        or (" alarm " in joined and lead in _SETTERS)
        or (lead == "make" and nxt == "sure")
        or (lead in ("don't", "dont") and nxt == "forget")
    )
    if strong_remind or (lead in _REMIND_LEADS and (cues.strong_schedule or cues.when)):
        if cues.action and lead not in ("remind", "reminder", "remember"):
            return IntentKind.SCHEDULE_JOB, 0.85
        return IntentKind.CREATE_REMINDER, 0.92
    if lead in ("did", "has", "was", "were") and words[-1] == "?" and not cues.action:
        return IntentKind.SHOW_HISTORY, 0.8  # "did the report get posted this morning?"
    ai_job = (
        cues.ai_verb
        and lead not in _TASK_LEADS | _UPDATE_LEADS
        and (not cues.mention_first and (cues.strong_schedule or not cues.deadline))
    )
    if (cues.strong_schedule or cues.when) and (cues.action or ai_job):
        return IntentKind.SCHEDULE_JOB, 0.9
    if lead in _TASK_LEADS and (lead not in ("log", "note", "open", "file") or nxt == "task"):
        return IntentKind.CREATE_TASK, 0.9
    if (
        (names_then_modal(toks, lead_at) or delegation(toks, lead_at)) is not None
        and not cues.strong_schedule
        and (cues.deadline or not cues.when)  # "backup should run at 5" is no assignment
    ):
        return IntentKind.CREATE_TASK, 0.8  # "alice and bob should prepare the demo"
    if (
        (lead in _RERUN_LEADS or (lead in ("run", "start") and nxt not in _NOT_RUN_OBJECTS))
        and not cues.strong_schedule
        and not cues.action
        and not cues.when
    ):
        return IntentKind.RUN_TASK, 0.85
    if (
        (
            wordset & _HISTORY_WORDS
            or " last run" in joined
            or " how long " in joined
            or (lead in ("when", "did", "has", "how") and " run" in joined)
            or (lead == "why" and bool(wordset & _NEGATIONS))
            or (lead == "why" and nxt in ("did", "does", "do", "is", "was", "has", "are"))
            or " average " in joined
        )
        and not cues.strong_schedule
        and not cues.action
    ):
        return IntentKind.SHOW_HISTORY, 0.85
    if (
        any(
            p in joined
            for p in (
                " did the team ",
                " did we ",
                " got done ",
                " team do ",
                " we ship",
                " we accomplish",
            )
        )
        and not cues.strong_schedule
    ):
        return IntentKind.REPORT, 0.8
    if _is_report(lead, words) and not cues.strong_schedule:
        return IntentKind.REPORT, 0.85
    if _is_list(lead, wordset, joined):
        return IntentKind.LIST_TASKS, 0.85
    if (
        lead in _UPDATE_LEADS
        or (lead == "call" and nxt in ("it", "this"))
        or (cues.when and (" deadline " in joined or " due date " in joined))
    ):
        return IntentKind.UPDATE_TASK, 0.85
    if lead in _RUN_LEADS:
        if cues.action:
            return IntentKind.SCHEDULE_JOB, 0.75
        return IntentKind.RUN_TASK, 0.85
    if cues.action:
        return IntentKind.SCHEDULE_JOB, 0.7
    if cues.mention_first or (lead == "ask" and any(t.kind is Kind.USER for t in toks)):
        return IntentKind.CREATE_TASK, 0.7
    if cues.strong_schedule and wordset & _REMIND_LEADS and lead not in _QUESTION:
        # "when the deploy webhook fires, notify #eng that v2 was deployed by bob"
        return IntentKind.CREATE_REMINDER, 0.88
    if " by " in joined or " due " in joined:
        return IntentKind.CREATE_TASK, 0.7
    if (cues.strong_schedule or cues.when) and lead not in _QUESTION:
        if wordset & _REMIND_LEADS:  # "every weekday at 9:30 ping #eng to …"
            return IntentKind.CREATE_REMINDER, 0.88
        return IntentKind.CREATE_REMINDER, 0.6
    return IntentKind.UNKNOWN, 0.3


def _is_help(lead: str, joined: str, count: int) -> bool:
    if lead in _HELP_LEADS and count <= 4:
        return True
    phrases = (
        " what can you do",
        " what do you do",
        " what can kairos do",
        " can you help",
        " what can you help",
        " what do you help",
        " what can it do",
        " what can this bot do",
        " what can the bot do",
        " how do i use",
        " how does this work",
        " what are your commands",
        " what can i ask",
        " what can i say",
        " how do you work",
        " who are you",
        " what are you",
        " how to use",
        " show me the commands",
        " list commands",
        " what commands",
    )
    return any(p in joined for p in phrases)


def _is_complete(lead: str, nxt: str, wordset: set[str], joined: str) -> bool:
    if lead in ("check", "tick") and nxt != "off":
        return False
    if (
        lead in _COMPLETE_LEADS
        or lead == "resolve"
        or " that's done " in joined
        or (" all done " in joined)
    ):
        return True
    if lead in ("mark", "set") and wordset & _DONE_WORDS:
        return True
    tail = joined.split()
    if tail and tail[-1] in ("done", "finished", "completed") and len(tail) <= 4:
        return True  # "yep done", "ok, finished"
    if lead == "did" and (" i did " in joined or " we did " in joined):
        return True
    return any(
        f" is {w} " in joined or f" are {w} " in joined or f" it's {w} " in joined
        for w in ("done", "finished", "complete", "completed")
    ) and not any(f" {w} " in joined for w in ("when", "once", "after", "what", "what's"))


_REPORT_ASKS = frozenset(
    {
        "give",
        "show",
        "send",
        "get",
        "generate",
        "create",
        "make",
        "post",
        "share",
        "prepare",
        "produce",
        "compile",
        "what's",
        "need",
        "want",
    }
)
_REPORT_KINDS = frozenset(
    {
        "weekly",
        "daily",
        "monthly",
        "team",
        "status",
        "standup",
        "biweekly",
        "quarterly",
        "yearly",
        "annual",
        "sprint",
        "progress",
        "activity",
        "nightly",
    }
)


def _is_report(lead: str, words: list[str]) -> bool:
    """A summary asked for now: "weekly report", "give me a recap", "summarize #eng"."""
    if lead in _REPORT_WORDS:
        return True
    hits = [i for i, w in enumerate(words) if w in _REPORT_WORDS]
    if not hits:
        return False
    first = hits[0]
    if lead in _REPORT_ASKS or len(words) <= 4:
        return True
    return first > 0 and words[first - 1] in _REPORT_KINDS and lead not in _UPDATE_LEADS


def _is_list(lead: str, wordset: set[str], joined: str) -> bool:
    if lead in ("list", "ls", "agenda") or lead in _LIST_WORDS:
        return True
    phrases = (
        " working on ",
        " on my plate ",
        " my tasks ",
        " do i have ",
        " have i got ",
        " do i need to ",
        " need to do ",
        " my schedule ",
        " my day ",
        " my week ",
        " do we have ",
        " have we got ",
        " up to ",
        " busy with ",
        " what's next ",
        " what's left ",
        " is left ",
        " should i do ",
        " should i work on ",
    )
    if any(p in joined for p in phrases):
        return True
    if lead in ("what", "what's", "whats") and " doing " in joined:
        return True
    if lead in _QUESTION and (
        wordset & _LIST_WORDS or wordset & {"due", "open", "left", "assigned", "todo"}
    ):
        return True
    return bool(wordset & {"overdue", "agenda", "backlog"}) or (
        lead in ("my", "our", "all", "open", "team") and bool(wordset & _LIST_WORDS)
    )
