"""``RuleParser``: the offline, rule-based ``IntentParser``.

The pipeline: normalise and tokenise → read the recurrence, then one-off time
phrases → find an action or event → classify → fill the intent's fields from
what is left (people, channel, priority, prerequisites, title or task reference)
→ build the schedule and ask ``core.triggers`` for its first fire times.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.intents.actions import ai_prompt, take_action, take_event
from core.intents.assignment import take_assignment
from core.intents.classify import Cues, classify, lead_index
from core.intents.entities import (
    take_bare_recipients,
    take_channel,
    take_dependencies,
    take_mentions,
    take_priority,
)
from core.intents.lexicon import REMIND_VERBS
from core.intents.model import Intent, IntentKind
from core.intents.numeric_dates import DateOrder, fold_numeric_dates
from core.intents.recurrence import Recurrence, scan_recurrence
from core.intents.refs import list_people, rename_title, take_bare_assignee, task_ref
from core.intents.resolve import resolve
from core.intents.signals import bare_time_reply, schedulable, score, take_shift
from core.intents.specs import Built, event, once, recurring
from core.intents.times import add_duration, scan_when
from core.intents.title import leftover, reminder_title, render, task_title, trim
from core.intents.tokens import Kind, Token, normalise_text, tokenize
from core.intents.when import When
from core.intents.words import norm_at, read_duration
from core.schedule import check_timezone

log = logging.getLogger(__name__)

#: How far "snooze" / "later" without a duration postpones a reminder.
DEFAULT_SNOOZE = timedelta(hours=1)
_REMIND_VERBS = REMIND_VERBS | {"set"}
_TASK_VERBS = frozenset(
    {
        "add",
        "create",
        "new",
        "todo",
        "track",
        "log",
        "note",
        "open",
        "file",
        "make",
        "please",
        "ask",
        "get",
    }
)
#: Words that make a scheduled message a job that produces something ("summarize …").
_AI_CUES = frozenset(
    {
        "summarize",
        "summarise",
        "digest",
        "analyze",
        "analyse",
        "draft",
        "generate",
        "translate",
        "triage",
        "report",
        "recap",
        "summary",
    }
)
_EVENT_LEADS = frozenset({"when", "whenever", "if", "once", "on", "after"})
_QUESTION_AUX = frozenset({"did", "does", "do", "was", "were", "is", "are", "has", "have", "will"})
_REF_INTENTS = frozenset(
    {
        IntentKind.COMPLETE_TASK,
        IntentKind.DELETE_TASK,
        IntentKind.RUN_TASK,
        IntentKind.SHOW_HISTORY,
        IntentKind.UPDATE_TASK,
        IntentKind.SNOOZE,
    }
)


def _clock_only(when: When) -> bool:
    """No time words, or only a time of day ("at 8", "in the morning"): nothing that
    pins the job to one date."""
    return (
        when.date is None
        and not when.extra_dates
        and not when.has_delta
        and not when.deadline
        and when.zone is None
    )


class RuleParser:
    """Understands everyday chat phrasings with no network and no model.

    Stateless and cheap to build; ``parse`` never raises for any input text.
    """

    def __init__(self, *, date_order: DateOrder | str | None = None) -> None:
        #: How the workspace writes numeric dates; ``None``: "3/12" is asked back.
        self.date_order = DateOrder(date_order) if date_order else None

    def parse(
        self,
        text: str,
        *,
        now: datetime,
        tz: str,
        user: str = "me",
        date_order: DateOrder | str | None = None,
    ) -> Intent:
        """Parse ``text`` said at ``now`` (naive = wall time in ``tz``) by ``user``.

        ``user`` is the speaker's handle: a mention of it is reported as ``"me"``.
        ``date_order`` (``"DMY"``/``"MDY"``) overrides the parser's default for this
        message: how "3/12" is read.
        """
        order = DateOrder(date_order) if date_order else self.date_order
        zone = check_timezone(tz)
        if now.tzinfo is None:
            now = now.replace(tzinfo=ZoneInfo(zone))
        now = now.replace(microsecond=0)
        try:
            intent = _Reading(text, now=now, tz=zone, date_order=order).intent()
        except Exception:  # the parser faces arbitrary user text: never take the bot down
            log.exception("rule parser failed on %r", text[:200])
            return Intent(
                intent=IntentKind.UNKNOWN,
                confidence=0.0,
                clarification="Sorry, I could not read that. Try 'help'.",
            )
        if user != "me":
            # The speaker naming themselves ("remind @alice", said by alice) is "me".
            intent.assignees = list(
                dict.fromkeys(
                    "me" if name.lower() == user.lower() else name for name in intent.assignees
                )
            )
        return intent


class _Reading:
    """One parse in progress (keeps the tokens and what has been found so far)."""

    def __init__(
        self, text: str, *, now: datetime, tz: str, date_order: DateOrder | None = None
    ) -> None:
        self.text = normalise_text(text)
        self.toks: list[Token] = fold_numeric_dates(tokenize(self.text), date_order)
        self.now = now
        self.tz = tz

    def intent(self) -> Intent:
        """The intent of this message (the whole pipeline, see the module docstring)."""
        toks = self.toks
        rec = scan_recurrence(toks)
        when = scan_when(toks)
        before_action = [t.used for t in toks]
        action = take_action(toks, self.text)
        action_toks = [t for t, was in zip(toks, before_action, strict=True) if t.used and not was]
        lead = norm_at(toks, lead_index(toks))
        event_name = None
        if rec is not None and rec.adjective and lead in _EVENT_LEADS:
            # "when the nightly backup completes, …": the adjective names the task.
            for tok in toks[rec.span[0] : rec.span[1]]:
                tok.used = False
            rec = None
        if (
            rec is None
            and lead in _EVENT_LEADS
            and norm_at(toks, lead_index(toks) + 1) not in _QUESTION_AUX  # "when did X run?"
            and (
                action is not None
                or any(t.norm in _AI_CUES | _REMIND_VERBS for t in toks if not t.used)
            )
        ):
            event_name = take_event(toks, self.text)
        cues = Cues(
            strong_schedule=(rec is not None and not rec.weak) or event_name is not None,
            when=schedulable(when),
            deadline=when.deadline,
            action=action is not None,
            ai_verb=any(t.norm in _AI_CUES and not t.used for t in toks),
            mention_first=bool(toks) and toks[0].kind is Kind.USER,
        )
        kind, confidence = classify(toks, cues)
        if rec is None and event_name is None and action is None and bare_time_reply(toks, when):
            kind, confidence = IntentKind.SNOOZE, 0.8
        if kind is not IntentKind.SCHEDULE_JOB:
            for tok in action_toks:  # only what the action read goes back
                tok.used = False
            action = None
            if kind is not IntentKind.CREATE_REMINDER:
                event_name = None
        if kind in (IntentKind.DELETE_TASK, IntentKind.COMPLETE_TASK):
            # "cancel my 3pm reminder": times here name the task, they schedule nothing.
            for tok in toks:
                tok.used = False
            rec, when = None, When()
        if (
            rec is not None
            and rec.adjective
            and (kind is not IntentKind.SCHEDULE_JOB or not _clock_only(when))
        ):
            # "show failed runs of the nightly sync": "nightly" is part of a name here;
            # a job said with its clock time alone recurs ("send me a daily digest at 8"),
            # one given a date or a delay runs once ("post the weekly digest tomorrow").
            for tok in toks[rec.span[0] : rec.span[1]]:
                tok.used = False
            rec = None
        result = Intent(intent=kind, confidence=confidence, clarification=when.clarification)
        handler = {
            IntentKind.CREATE_REMINDER: self._reminder,
            IntentKind.CREATE_TASK: self._task,
            IntentKind.SCHEDULE_JOB: self._job,
            IntentKind.LIST_TASKS: self._list,
            IntentKind.REPORT: self._report,
            IntentKind.SNOOZE: self._snooze,
        }.get(kind)
        if handler is not None:
            handler(result, rec, when, event_name)
        elif kind in _REF_INTENTS:
            self._on_task(result, when)
        if kind is IntentKind.SCHEDULE_JOB:
            # The job's name is what it does, as said: "post the weekly digest", "run `x`".
            for tok in action_toks:
                tok.used = False
            result.title = render(toks, trim(toks, leftover(toks)), self.text) or None
            for tok in action_toks:
                tok.used = True
            result.action = action or ai_prompt(toks, self.text)
        score(result, self.toks)
        return result

    # --- schedules ------------------------------------------------------------------

    def _schedule(
        self, result: Intent, rec: Recurrence | None, when: When, event_name: str | None
    ) -> None:
        built: Built | None = None
        if rec is not None:
            built = recurring(rec, when, now=self.now, tz=self.tz)
        elif event_name is not None:
            built = event(event_name, when.zone or self.tz)
        elif not when.empty:
            resolved = resolve(when, now=self.now, tz=self.tz)
            if resolved is not None:
                built = once(resolved.at, resolved.zone, now=self.now)
                result.clarification = result.clarification or resolved.clarification
                if not built.runs:
                    result.clarification = result.clarification or "That time has passed."
        if built is not None:
            result.schedule = built.parsed
            result.next_runs = built.runs
            if built.problem:
                result.clarification = built.problem

    def _due(self, result: Intent, when: When) -> None:
        if when.empty:
            return
        resolved = resolve(when, now=self.now, tz=self.tz, deadline=True)
        if resolved is not None:
            result.due = resolved.at.replace(microsecond=0)
            result.clarification = result.clarification or resolved.clarification

    # --- per intent -----------------------------------------------------------------

    def _reminder(
        self, result: Intent, rec: Recurrence | None, when: When, event_name: str | None
    ) -> None:
        toks = self.toks
        self._schedule(result, rec, when, event_name)
        result.channel = take_channel(toks)
        people = take_mentions(toks)
        verb_at = next(
            (i for i, t in enumerate(toks) if t.norm in _REMIND_VERBS and not t.used), None
        )
        if verb_at is not None and norm_at(toks, verb_at + 1) in ("me", "us", "myself"):
            toks[verb_at + 1].used = True
            people.insert(0, "me")
        elif verb_at is not None and not people:
            people = take_bare_recipients(toks, verb_at)
        for i in when.deadline_words:
            if toks[i].norm == "due":  # "the rent is due on the 1st" keeps its "due"
                toks[i].used = False
        if not people and result.channel is None:
            people = ["me"]  # a reminder with no one named is for the speaker
        result.assignees = people
        result.priority = take_priority(toks)
        result.title = reminder_title(toks, self.text, _REMIND_VERBS)

    def _task(
        self, result: Intent, rec: Recurrence | None, when: When, event_name: str | None
    ) -> None:
        toks = self.toks
        if rec is not None:
            self._schedule(result, rec, when, None)
        else:
            self._due(result, when)
        assigned = take_assignment(toks, lead_index(toks))
        result.assignees = list(dict.fromkeys(assigned + take_mentions(toks)))
        result.channel = take_channel(toks)
        result.priority = take_priority(toks)
        result.depends_on = take_dependencies(toks, loose=True)
        result.title = task_title(toks, self.text, _TASK_VERBS)
        if result.title is None:
            result.confidence = min(result.confidence, 0.4)
            result.clarification = result.clarification or "What is the task?"

    def _job(
        self, result: Intent, rec: Recurrence | None, when: When, event_name: str | None
    ) -> None:
        self._schedule(result, rec, when, event_name)
        result.channel = take_channel(self.toks)
        result.assignees = take_mentions(self.toks)
        if result.schedule is None:
            result.clarification = result.clarification or "When should this run?"

    def _list(
        self, result: Intent, rec: Recurrence | None, when: When, event_name: str | None
    ) -> None:
        result.assignees = list_people(self.toks)
        result.channel = take_channel(self.toks)

    def _report(
        self, result: Intent, rec: Recurrence | None, when: When, event_name: str | None
    ) -> None:
        result.channel = take_channel(self.toks)

    def _snooze(
        self, result: Intent, rec: Recurrence | None, when: When, event_name: str | None
    ) -> None:
        toks = self.toks
        if when.empty:
            for i, tok in enumerate(toks):
                duration = None if tok.used else read_duration(toks, i)
                if duration is not None:
                    add_duration(when, duration)
                    when.pieces += 1
                    for used in toks[i : duration[2]]:
                        used.used = True
                    break
        if when.empty:
            when.has_delta, when.delta_seconds, when.pieces = True, DEFAULT_SNOOZE.seconds, 1
        self._schedule(result, None, when, None)
        result.task_ref = task_ref(toks, self.text, IntentKind.SNOOZE)

    def _on_task(self, result: Intent, when: When) -> None:
        toks = self.toks
        kind = result.intent
        if kind is IntentKind.UPDATE_TASK:
            take_shift(toks)
            self._due(result, when)
            result.priority = take_priority(toks, plain_levels=True)
            people = take_mentions(toks, me_words=True)
            result.assignees = list(dict.fromkeys(people + take_bare_assignee(toks)))
            result.title = rename_title(toks, self.text)
            result.channel = take_channel(toks)  # "move 12 to #ops"
        elif kind is not IntentKind.SHOW_HISTORY:
            result.channel = take_channel(toks)
        result.task_ref = task_ref(toks, self.text, kind)

    # --- confidence -----------------------------------------------------------------
