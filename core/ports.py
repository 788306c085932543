"""The interfaces of Kairos (``typing.Protocol``), all in one place.

``core`` depends only on these; ``bot/`` and ``integrations/`` implement them.
Each section names the module that owns its implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from core.intents.model import Intent
from core.jobs import Job, LogSink
from core.messages import Inbound, Reply


@runtime_checkable
class Clock(Protocol):
    """Where "now" comes from (``core.clock.SystemClock`` / ``ManualClock``)."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class IntentParser(Protocol):
    """Turns what a person wrote into an ``Intent``, synchronously (``RuleParser``).

    The conversation reads through ``AsyncIntentParser`` (the rules, then Claude).
    """

    def parse(self, text: str, *, now: datetime, tz: str, user: str = "me") -> Intent:
        """Parse ``text`` said at ``now`` by ``user`` whose time zone is ``tz``."""
        ...


class ChatAdapter(Protocol):
    """A chat surface Kairos can post to (console, Slack, Discord)."""

    async def send(self, reply: Reply) -> str | None:
        """Deliver ``reply`` to its channel/thread/user; return the message reference."""
        ...


class Conversation(Protocol):
    """The platform-free conversation logic (``bot.conversation``).

    Every chat adapter turns what arrives into ``Inbound`` and calls these; it
    renders the returned ``Reply`` objects in its own format.
    """

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """React to a message (slash command text, DM, mention, thread reply)."""
        ...

    async def press(self, inbound: Inbound, *, action: str, value: str) -> list[Reply]:
        """React to a button press (``action`` such as ``task.done``, ``value`` its payload)."""
        ...


class TaskListener(Protocol):
    """Told by the task service when a task's schedule or state changed (the engine)."""

    async def task_changed(self, task_id: int) -> None:
        """Re-read the task and reschedule it (or drop it)."""
        ...


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """What a successful execution produced (shown in run history and chat).

    ``output`` is the one-line summary the worker stores; the other fields are
    recorded by ``core.executors.reporting`` (exit/HTTP status, rows…).
    """

    output: str = ""
    exit_code: int | None = None
    http_status: int | None = None
    result: Mapping[str, Any] | None = None


class Executor(Protocol):
    """Runs one attempt of a task (``core.executors``: ``NotifyExecutor``, ``NoopExecutor``…).

    Raise to fail the attempt: the worker records the error text and retries per
    the task's retry policy. Raise ``core.errors.KairosError`` subclasses for
    errors a person should read as they are.
    """

    async def execute(self, job: Job) -> ExecutionResult:
        """Do the job's action and describe the result."""
        ...


class Notifier(Protocol):
    """Delivers a due reminder/task to its people (the chat layer implements it)."""

    async def notify(self, job: Job) -> str | None:
        """Post the reminder for ``job``; return the message reference, if any."""
        ...


class LogSinks(Protocol):
    """Opens the log of one attempt (``core.executors.logs.FileLogs``; Supabase Storage later)."""

    def open(self, job: Job) -> ClosableLogSink:
        """A sink for ``job``'s full log; closed by the caller when the attempt ends."""
        ...


class ClosableLogSink(LogSink, Protocol):
    """A ``LogSink`` that keeps a capped excerpt and knows where the full log lives."""

    @property
    def location(self) -> str | None:
        """Where the full log is stored (a file path, a storage key), if anywhere."""
        ...

    def excerpt(self) -> str:
        """The captured output up to the cap (head and tail when it was longer)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class RunReport:
    """How an action's attempt ended, for the chat (``RunReporter``)."""

    run_id: int
    ok: bool
    duration_seconds: float
    summary: str
    excerpt: str = ""
    error: str | None = None
    exit_code: int | None = None
    http_status: int | None = None
    log_location: str | None = None
    result: Mapping[str, Any] | None = None
    #: ``core.retry.error_kind`` of the failure (``None`` on success).
    error_kind: str | None = None
    attempt: int = 1


class RunReporter(Protocol):
    """Posts an action's result back to chat (``bot.notify.ChatNotifier``)."""

    async def report(self, job: Job, report: RunReport) -> None:
        """Tell the task's thread/channel (or its creator) how ``job`` ended."""
        ...


class Metrics(Protocol):
    """Operational counters (``bot.metrics.PrometheusMetrics``; ``NullMetrics`` in tests).

    Called from hot paths: implementations must be cheap and never raise.
    """

    def fired(self, count: int) -> None:
        """``count`` runs were written by a fire batch."""
        ...

    def run_started(self, executor: str, lateness_seconds: float) -> None:
        """An attempt entered its executor ``lateness_seconds`` after it was due."""
        ...

    def run_finished(self, executor: str, status: str, duration_seconds: float) -> None:
        """An attempt ended with ``status`` (a ``RunStatus`` value)."""
        ...

    def queue_depth(self, depth: int) -> None:
        """Runs claimed or handed over locally but not yet executing."""
        ...

    def db_error(self, component: str) -> None:
        """A database operation of ``component`` (``engine``, ``workers``…) failed."""
        ...

    def chat_call(self, platform: str, method: str, outcome: str) -> None:
        """A chat API call ended with ``outcome`` (``ok``, ``error``, ``rate_limited``)."""
        ...


class NullMetrics:
    """A ``Metrics`` that records nothing."""

    def fired(self, count: int) -> None:
        return None

    def run_started(self, executor: str, lateness_seconds: float) -> None:
        return None

    def run_finished(self, executor: str, status: str, duration_seconds: float) -> None:
        return None

    def queue_depth(self, depth: int) -> None:
        return None

    def db_error(self, component: str) -> None:
        return None

    def chat_call(self, platform: str, method: str, outcome: str) -> None:
        return None


@runtime_checkable
class CreationListener(TaskListener, Protocol):
    """A ``TaskListener`` that can take a new task's cursor without reading it back.

    ``task_created`` is called after the commit of a create with the task's
    ``next_fire_at`` (``None``: nothing to schedule); the engine implements it.
    ``tasks_changed`` is ``task_changed`` for many tasks with one read.
    """

    async def task_created(self, task_id: int, next_fire_at: datetime | None) -> None: ...

    async def tasks_changed(self, task_ids: Sequence[int]) -> None: ...


class MissedFires(Protocol):
    """Told once per task when the misfire policy skipped some of its fires.

    The engine calls it after committing the skipped runs (one call per task per
    fire, whatever the number of fires skipped); ``late_run`` says whether a late
    run of the same task was made as well. The chat notifier implements it, so
    the people a reminder was for hear what they missed, once.
    """

    async def missed(self, task_id: int, fires: Sequence[datetime], *, late_run: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parser may know besides the words (DESIGN: parsers take context)."""

    now: datetime
    tz: str
    user: str = "me"
    #: Whose budget a model call is charged to (``None``: outside a workspace).
    workspace_id: int | None = None
    #: What Kairos just asked this person and is waiting for an answer to.
    question: str | None = None
    #: The title of the task whose thread this was said in.
    task_title: str | None = None
    #: How the workspace writes numeric dates (``"DMY"``/``"MDY"``), if configured.
    date_order: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """An ``Intent`` with where it came from and the language it was said in."""

    intent: Intent
    #: ``rules`` or ``claude``.
    parser: str = "rules"
    #: ISO 639-1 code of the message's language (the rule parser reads English);
    #: ``None`` when the rules read a message that is in some other language.
    language: str | None = "en"


class AsyncIntentParser(Protocol):
    """Reads a message in its context (``core.intents.chain.ParserChain``, ``ClaudeParser``).

    The async, context-taking seam of the conversation. ``IntentParser`` above stays
    the synchronous port of the offline ``RuleParser``.
    """

    async def read(self, text: str, context: ParseContext) -> Reading:
        """What ``text`` means; raises ``core.errors.ModelUnavailable`` only when no reading
        can be given at all (a chain never raises: it falls back to the rules)."""
        ...


@dataclass(frozen=True, slots=True)
class Completion:
    """A text answer of the language model and what it cost."""

    text: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0


class LanguageModel(Protocol):
    """Free-text answers from the model (``integrations.llm.client.ClaudeClient``).

    Every call is charged to ``workspace_id``'s daily budget and recorded; raises
    ``core.errors.BudgetExhausted`` or ``core.errors.ModelUnavailable``.
    """

    async def complete(
        self,
        *,
        purpose: str,
        system: str,
        prompt: str,
        workspace_id: int | None,
        max_tokens: int = 1024,
    ) -> Completion:
        """Ask the model ``prompt`` under the (cached) ``system`` prompt."""
        ...


class Translator(Protocol):
    """Puts Kairos's reply texts into another language (``ClaudeTranslator``).

    The conversation decides when (the language a message was read in) and whether
    the result is used (ids, mentions, times and quoted titles must survive);
    implementations only translate.
    """

    async def translate(
        self, texts: Sequence[str], *, language: str, workspace_id: int | None
    ) -> list[str]:
        """``texts`` in ``language`` (ISO 639-1), same order; raises
        ``core.errors.ModelUnavailable`` or ``BudgetExhausted`` when it cannot."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """One message of a channel's history, platform-neutral."""

    at: datetime
    author: str
    text: str


class ChannelHistory(Protocol):
    """Reads a channel's recent messages (``bot.slack.history.SlackChannelHistory``)."""

    async def messages(
        self, *, workspace_id: int, channel: str, since: datetime, limit: int
    ) -> list[ChannelMessage]:
        """Messages of ``channel`` after ``since``, oldest first, at most ``limit``."""
        ...


@dataclass(frozen=True, slots=True)
class Finding:
    """Something found for a context question: a task or a run, and its text."""

    ref: str  # "#12" or "run 7 of #12"
    title: str
    text: str


class Reranker(Protocol):
    """Orders findings by relevance and answers in a sentence (``ClaudeReranker``)."""

    async def rerank(
        self, question: str, findings: Sequence[Finding], *, workspace_id: int
    ) -> tuple[list[int], str]:
        """Indexes of ``findings``, most relevant first, and a one-sentence answer."""
        ...


class LogStore(LogSinks, Protocol):
    """Where full run logs live: files under the data directory
    (``core.executors.logs.FileLogs``) or Supabase Storage
    (``integrations.supabase.logs.SupabaseLogs``). Opens each attempt's log and
    reads one back by the location recorded on the run."""

    async def read(self, location: str, *, limit: int | None = None) -> bytes | None:
        """The log at ``location`` (its first ``limit`` bytes); ``None`` when it is gone."""
        ...


class ThreadHistory(Protocol):
    """Reads a thread's messages (``bot.channels.ChannelHistories.thread``)."""

    async def thread(
        self, *, workspace_id: int, channel: str, thread: str, limit: int
    ) -> list[ChannelMessage]:
        """The thread's messages (its parent first), oldest first, at most ``limit``."""
        ...
