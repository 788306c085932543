"""The composition root: every concrete class of Kairos is built and wired here.

``Kairos.open(settings)`` migrates the database and builds the store, task
service, scheduler engine and workers, parser and conversation; ``start()``
starts the scheduler; ``close()`` stops everything in order. ``serve`` is the
main job behind ``kairos run``.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.engine import make_url

from bot.channels import ChannelHistories
from bot.conversation import ChatConversation
from bot.conversation.events_talk import EventsTalk
from bot.conversation.history import RunsTalk
from bot.conversation.labels import LabelSource
from bot.conversation.languages import ReplyLanguage
from bot.conversation.planning import PlanTalk
from bot.conversation.related import RelatedTalk
from bot.logstore import log_store
from bot.metrics import PrometheusMetrics
from bot.notices import NoticeDispatcher, Reporters
from bot.notify import ChatNotifier
from bot.settings import Settings
from core import migrate
from core.clock import SystemClock
from core.db import Database
from core.enums import Platform, RunStatus
from core.errors import KairosError, StoreError
from core.events.layer import EventLayer
from core.events.task_events import TaskChangeEvents
from core.executors.registry import ExecutorRegistry
from core.executors.standard import standard_registry
from core.intents.language import EnglishCheck
from core.intents.rules import RuleParser
from core.planning.service import HourlyCap, PlanService, WorkflowPlanSink
from core.ports import ChannelHistory, ChatAdapter, Clock, IntentParser, LogStore
from core.scheduler.scheduler import Scheduler
from core.scheduler.workers import DEFAULT_PER_TYPE, PoolSettings
from core.services.actions import ActionChecker
from core.services.conversation import ConversationMemory
from core.services.insight import InsightService
from core.services.notices import NoticeService
from core.services.tasks import TaskService
from core.store import SqlStore
from core.store.history import RunHistory
from core.store.insight import InsightStore
from core.store.notices import NoticeStore
from core.store.runs import RunStore
from integrations.llm.build import Claude, build_chain, build_claude

if TYPE_CHECKING:
    from bot.discord import DiscordSurface
    from bot.slack import SlackSurface
    from bot.workflow_notices import WorkflowAnnouncer
    from core.workflows.service import WorkflowService

log = logging.getLogger(__name__)


class _CardAdapter(ChatAdapter, Protocol):
    """A chat surface's adapter: it posts, and shows task cards in each task's language."""

    def use_labels(self, labels: LabelSource) -> None: ...


class _ChatSurface(Protocol):
    """What the composition root needs of any chat surface it wires."""

    @property
    def adapter(self) -> _CardAdapter: ...


_SurfaceT = TypeVar("_SurfaceT", bound=_ChatSurface)


@dataclass
class Kairos:
    """Everything wired, ready to start; built by ``Kairos.open``."""

    settings: Settings
    clock: Clock
    db: Database
    store: SqlStore
    tasks: TaskService
    scheduler: Scheduler
    notifier: ChatNotifier
    parser: IntentParser
    conversation: ChatConversation
    metrics: PrometheusMetrics
    history: RunHistory
    executors: ExecutorRegistry
    events: EventLayer
    #: Reports, charts, statistics and estimates (a Claude narrative on reports with a key).
    insight: InsightService
    notices: NoticeDispatcher | None = field(default=None)
    #: Claude's client and parser; ``None`` without ``KAIROS_ANTHROPIC_API_KEY``.
    claude: Claude | None = None
    #: Channel history readers per platform (AI jobs' context).
    histories: ChannelHistories | None = None
    _started: bool = field(default=False, repr=False)
    _warming: asyncio.Task[object] | None = field(default=None, repr=False)
    _head_revision: str | None = field(default=None, repr=False)
    #: Full run logs (files, or Supabase Storage): ``kairos runs logs`` reads them here.
    logs: LogStore | None = None

    @classmethod
    async def open(cls, settings: Settings, *, clock: Clock | None = None) -> Kairos:
        """Apply migrations, then build every component (nothing runs yet)."""
        clock = clock or SystemClock()
        try:
            await migrate.upgrade(settings.database_url)
        except KairosError:
            raise
        except Exception as exc:  # any driver's connect error: say which database and why
            shown = make_url(settings.database_url).render_as_string(hide_password=True)
            raise StoreError(
                f"Cannot open the database {shown}: {_reason(exc)}.",
                hint="Check KAIROS_DATABASE_URL and that the server or folder is reachable.",
            ) from exc
        db = Database(settings.database_url)
        store = SqlStore(db)

        async def run_gauges() -> dict[str, float]:
            counts = await store.run_counts([RunStatus.PENDING, RunStatus.RUNNING])
            return {str(status): float(count) for status, count in counts.items()}

        metrics = PrometheusMetrics(store_gauges=run_gauges)
        context = ConversationMemory(store=store, clock=clock)
        notifier = ChatNotifier(store=store, adapters={}, context=context, clock=clock)
        policy = settings.execution_policy()
        history = RunHistory(db)
        notice_service = NoticeService(store=store, notices=NoticeStore(db), clock=clock)
        claude = build_claude(settings, ledger=store, clock=clock)
        insight = InsightService(
            store=InsightStore(db), clock=clock, narrator=claude.narrator if claude else None
        )
        histories = ChannelHistories(store=store)
        logs = log_store(settings, policy)
        notifier.use_logs(logs)
        executors = standard_registry(
            notifier=notifier,
            policy=policy,
            store=store,
            history=history,
            clock=clock,
            logs=logs,
            reporter=Reporters(notifier, notice_service),
            llm=claude.client if claude else None,
            channels=histories,
            digest_summaries=settings.llm_digest_summaries,
        )
        scheduler = Scheduler(
            db=db,
            clock=clock,
            executors=executors,
            settings=PoolSettings(
                concurrency=settings.workers,
                per_type={**DEFAULT_PER_TYPE, **settings.concurrency},
                timeout_seconds=settings.run_timeout_seconds,
            ),
            metrics=metrics,
            missed=notifier,
        )
        checker = ActionChecker(store=store, policy=policy, available=executors.types)
        events = EventLayer(
            db=db,
            clock=clock,
            pool=scheduler.pool,
            executors=executors,
            retention_days=settings.event_retention_days,
        )
        if settings.supabase_realtime and settings.supabase_url and settings.supabase_key:
            from integrations.supabase.realtime import SupabaseRealtime

            key = settings.supabase_key.get_secret_value()
            events.use_realtime(
                SupabaseRealtime(
                    url=settings.supabase_url, key=key, db=db, bus=events.bus, clock=clock
                )
            )
        listener = TaskChangeEvents(scheduler, events.task_events)
        tasks = TaskService(store=store, clock=clock, listener=listener, actions=checker)
        notifier.use_tasks(tasks)
        parser = RuleParser(date_order=settings.date_order)
        conversation = ChatConversation(
            runs_talk=RunsTalk(history=history, tasks=tasks, clock=clock),
            store=store,
            tasks=tasks,
            parser=parser,
            clock=clock,
            runner=scheduler,
            context=context,
            default_timezone=settings.default_timezone,
            confidence_threshold=settings.confidence_threshold,
            events=EventsTalk(events),
            notices=notice_service,
            insight=insight,
            reader=build_chain(settings, rules=parser, claude=claude) if claude else None,
            related=RelatedTalk(
                tasks=tasks, history=history, reranker=claude.reranker if claude else None
            ),
            reply_language=ReplyLanguage(
                translator=claude.translator,
                timeout_seconds=settings.llm_translate_timeout_seconds,
            )
            if claude
            else None,
        )
        kairos = cls(
            settings=settings,
            clock=clock,
            db=db,
            store=store,
            tasks=tasks,
            scheduler=scheduler,
            notifier=notifier,
            parser=parser,
            conversation=conversation,
            metrics=metrics,
            _head_revision=migrate.head_revision(),
            history=history,
            executors=executors,
            events=events,
            insight=insight,
            notices=NoticeDispatcher(
                service=notice_service,
                notifier=notifier,
                clock=clock,
                insight=insight,
                metrics=metrics,
                probe=scheduler.probe,
            ),
            claude=claude,
            histories=histories,
            logs=logs,
        )
        if conversation.reply_language is not None:
            notifier.use_languages(conversation.reply_language)  # later posts too
        kairos.conversation.use_workflows(kairos.workflows)
        kairos.conversation.use_thread_summaries(
            threads=histories, model=claude.client if claude else None
        )
        kairos.conversation.use_plans(
            _plans(settings, claude, checker=checker, kairos=kairos, memory=context)
        )
        kairos.runs.on_workflow_ended = kairos.announcer.wake
        return kairos

    @property
    def runs(self) -> RunStore:
        """Run rows and their history (the scheduler's store)."""
        return self.scheduler.runs

    @cached_property
    def workflows(self) -> WorkflowService:
        """Workflows (``core.workflows``); runs they start go straight to the local workers."""
        from core.store.passes import PassStore
        from core.workflows.service import WorkflowService

        return WorkflowService(
            store=self.store,
            passes=PassStore(self.db, self.runs),
            tasks=self.tasks,
            clock=self.clock,
            handover=self.scheduler.pool,
        )

    @cached_property
    def announcer(self) -> WorkflowAnnouncer:
        """Tells workflow owners how their workflows' runs ended."""
        from bot.workflow_notices import WorkflowAnnouncer

        assert self.notices is not None, "the notification service is built by open()"
        return WorkflowAnnouncer(workflows=self.workflows, notices=self.notices.service)

    def add_slack(self) -> SlackSurface:
        """Build the Slack surface on this Kairos and post Slack reminders through it."""
        from bot.slack import build_slack
        from bot.slack.history import SlackChannelHistory

        return self._add_surface(
            Platform.SLACK,
            build_slack,
            history=lambda surface: SlackChannelHistory(
                clients=surface.adapter.clients, store=self.store
            ),
            runs=self.runs,
            languages=self.conversation.memory,
            metrics=self.metrics,
        )

    def add_discord(self, **bot_options: Any) -> DiscordSurface:
        """Build the Discord surface on this Kairos and post Discord reminders through it."""
        from bot.discord import build_discord
        from bot.discord.history import DiscordChannelHistory

        return self._add_surface(
            Platform.DISCORD,
            build_discord,
            history=lambda surface: DiscordChannelHistory(client=surface.bot, store=self.store),
            metrics=self.metrics,
            **bot_options,
        )

    def _add_surface(
        self,
        platform: Platform,
        build: Callable[..., _SurfaceT],
        *,
        history: Callable[[_SurfaceT], ChannelHistory],
        **options: Any,
    ) -> _SurfaceT:
        """Wire one chat surface: what every platform shares, in one place.

        ``build`` is the platform's factory (``build_slack``, ``build_discord``);
        it gets the shared parts (settings, conversation, store, clock, tasks,
        parser) plus ``options``. The surface's adapter then posts that
        platform's reminders, and ``history`` makes the reader AI jobs use for
        its channels' context.
        """
        surface = build(
            settings=self.settings,
            conversation=self.conversation,
            store=self.store,
            clock=self.clock,
            tasks=self.tasks,
            parser=self.parser,
            **options,
        )
        self.add_chat(platform, surface.adapter)
        if self.conversation.reply_language is not None:
            surface.adapter.use_labels(self.conversation.reply_language)
        if self.histories is not None:
            self.histories.add(platform, history(surface))
        return surface

    def add_chat(self, platform: Platform, adapter: ChatAdapter) -> None:
        """Let reminders of ``platform`` workspaces be posted through ``adapter``."""
        self.notifier.add_adapter(platform, adapter)

    async def start(self) -> None:
        """Start the scheduler: recover crashed runs, then workers and engine."""
        self._warming = asyncio.create_task(asyncio.to_thread(self._warm), name="kairos-warm-up")
        await self.scheduler.start()
        await self.events.start()
        if self.notices is not None:
            await self.notices.start()
        self._started = True
        await self.announcer.announce()  # endings nobody was there to announce

    def _warm(self) -> None:
        """What one-shot commands never load and a running Kairos loads at start, in a
        thread, rather than inside a chat reply's time budget (about a second each)."""
        importlib.import_module("matplotlib.figure")  # charts and workflow pictures
        if self.claude is not None:
            EnglishCheck().warm()  # which messages go to Claude

    async def close(self) -> None:
        if self._started:
            await self.events.stop()
            if self.notices is not None:
                await self.notices.stop()
            await self.scheduler.stop()
            self._started = False
        await self.announcer.drain()
        if self._warming is not None:
            await asyncio.gather(self._warming, return_exceptions=True)  # a thread: not cancellable
            self._warming = None
        await self.executors.aclose()
        if self.claude is not None:
            await self.claude.client.close()
        await self.db.dispose()

    async def readiness(self) -> list[str]:
        """For ``/readyz``: why this process should not get work yet (empty: ready)."""
        reasons: list[str] = []
        try:
            revision = await self.store.schema_revision()
        except Exception as exc:  # any driver error means the same to a load balancer
            return [f"database unreachable ({_reason(exc)})"]
        if revision != self._head_revision:
            reasons.append(
                f"database schema at {revision or 'nothing'}, this version needs "
                f"{self._head_revision} (run 'kairos db upgrade')"
            )
        if not self._started:
            reasons.append("scheduler not started")
        return reasons

    async def health(self) -> dict[str, object]:
        """For ``/healthz``: the database answers and the scheduler state."""
        await self.store.find_workspace(Platform.CONSOLE, "__healthz__")
        return {
            "database": "ok",
            "scheduled_tasks": self.scheduler.engine.scheduled,
            "running_runs": self.scheduler.pool.busy,
        }


def _plans(
    settings: Settings,
    claude: Claude | None,
    *,
    checker: ActionChecker,
    kairos: Kairos,
    memory: ConversationMemory,
) -> PlanTalk | None:
    """AI-planned workflows, with Claude only; approved plans run on the workflow engine."""
    if claude is None:
        return None
    cap = HourlyCap(
        store=kairos.store, clock=kairos.clock, tasks_per_hour=settings.llm_plan_tasks_per_hour
    )
    sink = WorkflowPlanSink(
        tasks=kairos.tasks,
        workflows=kairos.workflows,
        store=kairos.store,
        clock=kairos.clock,
        cap=cap,
    )
    service = PlanService(checker=checker, sink=sink, cap=cap)
    return PlanTalk(
        planner=claude.planner, service=service, memory=memory, dry_run=settings.llm_plan_dry_run
    )


def _reason(exc: BaseException) -> str:
    """The driver's own words for a connection failure, without the SQL noise."""
    root = getattr(exc, "orig", None) or exc
    return str(root).split("\n", 1)[0] or type(root).__name__
