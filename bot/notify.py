"""Reminders out: the chat side of ``core.ports.Notifier``.

A fired reminder becomes a neutral ``Reply`` routed to the task's thread, its
named channel, or its assignees' DMs, and is handed to the adapter of the
workspace's platform. The conversation remembers it, so "snooze" works.

Kairos's own words in these posts (never what people wrote: a reminder's text,
a task's title) are in the language of the task's creator (``tasks.language``),
through the conversation's ``ReplyLanguage``: a short timeout, English on any
failure, so a post is never lost or much delayed for its wording.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot import formatting
from bot.conversation.context import place
from bot.conversation.history import result_buttons
from bot.conversation.labels import labels_of
from bot.conversation.languages import ReplyLanguage
from bot.conversation.replies import fired_buttons
from core.enums import Platform, RunTrigger, TaskKind
from core.errors import NotConfigured, NotFound
from core.executors.digest import ALL_CLEAR
from core.executors.logs import read_file
from core.jobs import Job, TaskSnapshot
from core.messages import ENGLISH, Attachment, Labels, Reply, ReplyKind, Section
from core.models import TaskPublic
from core.notices.wording import BATCH_HEADER
from core.ports import ChatAdapter, Clock, LogStore, RunReport
from core.retry import will_retry
from core.services.conversation import ConversationMemory
from core.services.notices import Outgoing
from core.services.tasks import TaskService
from core.store import SqlStore
from core.templates import fill_event

#: A reminder delivered later than this after its time says so.
LATE_AFTER_SECONDS = 120

log = logging.getLogger(__name__)

#: Output shown inline in a result post; longer output is attached as a file.
_INLINE_CHARS = 1500
#: At most this much of a log file is attached.
_ATTACH_BYTES = 8 * 2**20


class ChatNotifier:
    """Posts due reminders through the chat adapter of each workspace's platform."""

    def __init__(
        self,
        *,
        store: SqlStore,
        adapters: Mapping[Platform, ChatAdapter],
        context: ConversationMemory,
        clock: Clock | None = None,
        tasks: TaskService | None = None,
    ) -> None:
        self._store = store
        self._adapters = dict(adapters)
        self._context = context
        # Values that never change once stored (a workspace's platform, a member's
        # platform id), cached so a burst of reminders does not re-read them each time.
        self._platforms: dict[int, Platform] = {}
        self._user_ids: dict[int, str] = {}
        self._clock = clock
        self._tasks = tasks
        self._logs: LogStore | None = None
        self._languages: ReplyLanguage | None = None
        # Fires due before this process started were missed while Kairos was down.
        self._started = clock.now() if clock is not None else None

    def use_logs(self, logs: LogStore) -> None:
        """Read full logs from here to attach long output (files or Supabase Storage)."""
        self._logs = logs

    def use_languages(self, languages: ReplyLanguage) -> None:
        """Put Kairos's own words in posts into the language of the task's creator."""
        self._languages = languages

    async def wording(self, task: TaskPublic, *texts: str) -> dict[str, str]:
        """Kairos's own ``texts`` in the language of ``task``'s creator, by English text
        (as they are without a key, in English, or when translating fails)."""
        wanted = [t for t in dict.fromkeys(texts) if t]
        if self._languages is None or task.language == "en" or not wanted:
            return {t: t for t in wanted}
        got = await self._languages.texts(wanted, task.language, workspace_id=task.workspace_id)
        return dict(zip(wanted, got, strict=True))

    async def in_language(self, reply: Reply) -> Reply:
        """A post of Kairos's own words (a notice) in the language of the creator of its
        task; quoted titles, ids and times must survive (``ReplyLanguage``)."""
        if self._languages is None or reply.task_id is None:
            return reply
        try:
            task = await self._store.get_task(reply.task_id)
        except NotFound:  # purged meanwhile: the notice still goes, in English
            return reply
        if task.language == "en":
            return reply
        (out,) = await self._languages.into([reply], task.language, workspace_id=task.workspace_id)
        return out

    async def batch_in_language(self, outgoing: Outgoing) -> str:
        """A batch of notifications in the language its tasks were set up in (when they
        share one; else the one its reader last wrote in): the header from the
        catalog, the notifications in one request with their titles held out."""
        if self._languages is None or not outgoing.batched:
            return outgoing.text
        language = outgoing.language or await self._context.language(
            workspace_id=outgoing.workspace_id, person=outgoing.person
        )
        if language == "en":
            return outgoing.text
        labels = await self._languages.labels(language, workspace_id=outgoing.workspace_id)
        lines = await self._languages.around(
            outgoing.batched,
            language,
            workspace_id=outgoing.workspace_id,
            verbatim=outgoing.verbatim,
        )
        return outgoing.rewritten(lines, header=labels(BATCH_HEADER))

    def use_tasks(self, tasks: TaskService) -> None:
        """Let fired one-off reminders be marked done (wired after the scheduler exists)."""
        self._tasks = tasks

    def add_adapter(self, platform: Platform, adapter: ChatAdapter) -> None:
        self._adapters[platform] = adapter

    async def adapter_for(self, workspace_id: int) -> ChatAdapter | None:
        """The adapter of the workspace's platform (``None``: not configured here)."""
        platform = self._platforms.get(workspace_id)
        if platform is None:
            workspace = await self._store.get_workspace(workspace_id)
            platform = self._platforms[workspace_id] = Platform(workspace.platform)
        return self._adapters.get(platform)

    async def post(self, workspace_id: int, reply: Reply) -> str | None:
        """Send one reply through the adapter of the workspace's platform (workflow notices)."""
        adapter = await self.adapter_for(workspace_id)
        if adapter is None:
            raise NotConfigured(f"No chat adapter for workspace {workspace_id}: not posted.")
        return await adapter.send(reply)

    async def notify(self, job: Job) -> str | None:
        task = job.task
        platform = self._platforms.get(task.workspace_id)
        if platform is None:
            workspace = await self._store.get_workspace(task.workspace_id)
            platform = self._platforms[task.workspace_id] = Platform(workspace.platform)
        adapter = self._adapters.get(platform)
        if adapter is None:
            raise NotConfigured(
                f"No chat adapter for {platform.value}: reminder #{task.id} was not posted.",
                hint="Configure that platform's tokens, or run Kairos with its chat surface.",
            )
        public = await self._store.get_task(task.id)
        targets = await self._targets(task, public.assignees)
        # A retry (of a crashed attempt above all) skips the people an earlier
        # attempt of this fire already reached: its posts were recorded at once.
        earlier = await job.deliveries.earlier() if job.attempt > 1 else {}
        creator_ref = await self._user_id(task.created_by)
        # A one-off reminder is done once it has fired (Reopen brings it back);
        # a snooze or manual run of it changes nothing.
        one_off = (
            task.kind == TaskKind.REMINDER
            and (public.schedule or {}).get("kind") == "once"
            and job.trigger in (RunTrigger.SCHEDULE, RunTrigger.MISFIRE)
        )
        late = self._lateness(job)
        buttons = fired_buttons(task.id, done=one_off or public.status == "done")
        others = any(user and user != creator_ref for _, _, user in targets)
        signed = f"Reminder from @{creator_ref}:" if creator_ref and others else ""
        said = await self.wording(public, "Reminder:", signed, late, *(b.label for b in buttons))
        buttons = tuple(replace(b, label=said[b.label]) for b in buttons)
        # What the person wrote goes out as they wrote it, never through a translation.
        message = fill_event(task.title, job.event) + (f" {said[late]}" if late else "")
        refs: list[str] = []
        repeated: set[int] = set()
        for channel_ref, thread_ref, user_ref in targets:
            target = _target_key(channel_ref, thread_ref, user_ref)
            if target in earlier:
                attempt, ref = earlier[target]
                repeated.add(attempt)
                if ref:
                    refs.append(ref)
                continue
            # To someone else's DM: it says who set it up.
            signs = bool(signed) and user_ref is not None and user_ref != creator_ref
            reply = Reply(
                text=f"{said[signed] if signs else said['Reminder:']} {message}",
                # Per recipient, not per place: an earlier attempt may have reached the
                # same person elsewhere (their DM, before the task's card had a thread).
                delivery_key=f"{task.id}@{job.scheduled_for.isoformat()}/{user_ref or channel_ref}",
                # A crashed attempt may have posted without living to record it (and a
                # retry of a retry may not know its first attempt crashed): Slack is asked.
                unless_posted=job.retry_of_crash or job.attempt > 1,
                kind=ReplyKind.REMINDER,
                task_id=task.id,
                task=public,
                buttons=buttons,
                channel_ref=channel_ref,
                thread_ref=thread_ref,
                user_ref=user_ref,
            )
            ref = await adapter.send(reply)
            job.deliveries.record(target, ref)
            await self._context.reminder_fired(
                workspace_id=task.workspace_id,
                person=user_ref if channel_ref is None or thread_ref else None,
                place=place(
                    user_ref=user_ref,
                    channel_ref=channel_ref,
                    thread_ref=thread_ref,
                    direct=channel_ref is None,
                ),
                task_id=task.id,
            )
            if ref:
                refs.append(ref)
        if repeated:
            attempts = ", ".join(str(n) for n in sorted(repeated))
            log.info(
                "reminder #%s (run %s): already delivered in attempt %s, not posted again",
                task.id,
                job.run_id,
                attempts,
            )
            refs.insert(0, f"already delivered in attempt {attempts}")
        if one_off and self._tasks is not None:
            await self._tasks.finish_fired(task.id)
        return ",".join(refs) or None

    async def missed(self, task_id: int, fires: Sequence[datetime], *, late_run: bool) -> None:
        """Tell a reminder's people, in one message, which of its fires were skipped."""
        task = await self._store.get_task(task_id)
        if task.kind != TaskKind.REMINDER or not fires:
            return
        workspace = await self._store.get_workspace(task.workspace_id)
        adapter = self._adapters.get(Platform(workspace.platform))
        if adapter is None:
            log.warning(
                "task #%s: no %s adapter to tell of skipped fires", task_id, workspace.platform
            )
            return
        tz = task.timezone
        down = self._started is not None and fires[-1] < self._started
        why = "while Kairos was not running" if down else "because Kairos could not fire it in time"
        if len(fires) == 1:
            text = (
                f"Missed: '{task.title}' was due {formatting.when(fires[0], tz)} "
                f"and was skipped {why}."
            )
        else:
            text = (
                f"Missed: '{task.title}' was due {len(fires)} times "
                f"({formatting.when(fires[0], tz)} to {formatting.when(fires[-1], tz)}); "
                f"they were skipped {why}."
            )
        if late_run:
            text += " The latest one is delivered now."
        if task.next_fire_at is not None:
            text += f" Next: {formatting.when(task.next_fire_at, tz)}."
        text = (await self.wording(task, text))[text]  # the title is quoted: kept as it is
        for channel_ref, thread_ref, user_ref in await self._targets(task, task.assignees):
            await adapter.send(
                Reply(
                    text=text,
                    task_id=task.id,
                    channel_ref=channel_ref,
                    thread_ref=thread_ref,
                    user_ref=user_ref,
                )
            )

    def _lateness(self, job: Job) -> str:
        """Say how late a delivery is, and why (Kairos was not running)."""
        if self._clock is None:
            return ""
        late = (self._clock.now() - job.scheduled_for).total_seconds()
        if late < LATE_AFTER_SECONDS:
            return ""
        minutes = int(late // 60)
        hours, rest = divmod(minutes, 60)
        span = (
            f"{minutes} min" if minutes < 120 else f"{hours} h" + (f" {rest} min" if rest else "")
        )
        due = formatting.when(job.scheduled_for, job.task.timezone)
        down = self._started is not None and job.scheduled_for < self._started
        why = "Kairos was not running then" if down else "Kairos could not deliver it on time"
        return f"(late by {span}: it was due {due}; {why})"

    async def _targets(
        self, task: TaskSnapshot | TaskPublic, assignees: list[str]
    ) -> list[tuple[str | None, str | None, str | None]]:
        """Where a reminder goes, as (channel, thread, person) triples.

        People other than its creator → each one's DM ("remind @bob …"); nobody
        named but a channel → that channel ("remind #eng …"); the creator alone →
        the task's thread when it has a card, else the creator's DM.
        """
        creator = await self._user_id(task.created_by)
        others = [person for person in assignees if person != creator]
        if others:
            return [(None, None, person) for person in others]
        if task.channel_ref and not assignees:
            return [(task.channel_ref, task.thread_ref, None)]
        if task.channel_ref and task.thread_ref:
            return [(task.channel_ref, task.thread_ref, creator)]
        return [(None, None, creator)]

    async def _user_id(self, member_id: int | None) -> str | None:
        if member_id is None:
            return None
        user_id = self._user_ids.get(member_id)
        if user_id is None:
            user_id = (await self._store.get_member(member_id)).platform_user_id
            self._user_ids[member_id] = user_id
        return user_id

    # --- results of actions (core.ports.RunReporter) ---------------------------------

    async def _digest_wording(
        self, task: TaskSnapshot, body: str, sections: tuple[Section, ...], verbatim: list[str]
    ) -> tuple[str, tuple[Section, ...]]:
        """A digest (its title, section names, lines, "all clear") in the language of its
        creator; the task titles in its lines (``verbatim``) are never sent to be
        translated and come out as they are, like ids, times and counts."""
        if self._languages is None or task.language == "en":
            return body, sections
        lines = body.split("\n")
        names = {f"{part.title}:": part.title for part in sections}
        items = [line for part in sections for line in part.lines]
        heads = [lines[0], *names.values(), *items, *(ln for ln in lines if ln == ALL_CLEAR)]
        wanted = list(dict.fromkeys(heads))
        got = await self._languages.around(
            wanted, task.language, workspace_id=task.workspace_id, verbatim=verbatim
        )
        said = dict(zip(wanted, got, strict=True))
        retitled = [said.get(lines[0], lines[0])] + [
            f"{said[names[line]]}:" if line in names else _said_line(line, said)
            for line in lines[1:]
        ]
        return "\n".join(retitled), tuple(
            replace(p, title=said[p.title], lines=tuple(said[ln] for ln in p.lines))
            for p in sections
        )

    async def report(self, job: Job, report: RunReport) -> None:
        """Post how an action ended to its thread/channel (or its creator's DM);
        a failure also goes to the task's owner when the post went elsewhere."""
        task = job.task
        workspace = await self._store.get_workspace(task.workspace_id)
        adapter = self._adapters.get(Platform(workspace.platform))
        if adapter is None:
            log.warning(
                "run %s: no %s adapter to post its result", report.run_id, workspace.platform
            )
            return
        creator = (
            (await self._store.get_member(task.created_by)).platform_user_id
            if task.created_by is not None
            else None
        )
        retrying = not report.ok and will_retry(
            (await self._store.get_task(task.id)).retry_policy,
            report.attempt,
            report.error_kind or "error",
        )
        labels = await labels_of(self._languages, task.language, task.workspace_id)
        body = result_text(task, report, retrying=retrying, labels=labels)
        buttons = labels.buttons(result_buttons(report.run_id, task.id))
        # A digest's text is the message itself; other long outputs go as a file.
        attachment = (
            None if task.action.get("type") == "digest" else await _full_log(report, self._logs)
        )
        sections = _digest_sections(task, report)
        if sections or (task.action.get("type") == "digest" and report.ok):
            verbatim = _digest_verbatim(report)
            body, sections = await self._digest_wording(task, body, sections, verbatim)
        if task.channel_ref:
            await adapter.send(
                Reply(
                    text=body,
                    task_id=task.id,
                    buttons=buttons,
                    channel_ref=task.channel_ref,
                    thread_ref=task.thread_ref,
                    attachment=attachment,
                    sections=sections,
                )
            )
            if report.ok or retrying or creator is None:
                return  # the owner hears of the final failure only
            body = f"{labels('Your job failed.')} {body}"
        elif creator is None:
            return
        kind = ReplyKind.TEXT if report.ok else ReplyKind.ERROR
        await adapter.send(
            Reply(
                text=body,
                kind=kind,
                task_id=task.id,
                buttons=buttons,
                user_ref=creator,
                attachment=None if task.channel_ref else attachment,
                sections=sections,
            )
        )


def _digest_sections(task: TaskSnapshot, report: RunReport) -> tuple[Section, ...]:
    """A successful digest's sections (``core.executors.digest``) for surfaces with blocks."""
    digest = (report.result or {}).get("digest") if task.action.get("type") == "digest" else None
    if not report.ok or not isinstance(digest, Mapping):
        return ()
    return tuple(
        Section(title=str(part.get("title", "")), lines=tuple(map(str, part.get("lines", ()))))
        for part in digest.get("sections", ())
        if isinstance(part, Mapping)
    )


def _digest_verbatim(report: RunReport) -> list[str]:
    """The task titles in a digest's lines (``core.executors.digest``)."""
    digest = (report.result or {}).get("digest")
    names = digest.get("verbatim", ()) if isinstance(digest, Mapping) else ()
    return [str(name) for name in names]


def _said_line(line: str, said: Mapping[str, str]) -> str:
    """One line of a digest's text in its translation (items are indented)."""
    item = line.removeprefix("  ")
    if item != line and item in said:
        return f"  {said[item]}"
    return said.get(line, line)


def _target_key(channel_ref: str | None, thread_ref: str | None, user_ref: str | None) -> str:
    """One reminder destination as recorded in ``runs.delivery_ref``."""
    return f"{channel_ref or ''}/{thread_ref or ''}/{user_ref or ''}"


async def _full_log(report: RunReport, logs: LogStore | None) -> Attachment | None:
    """The full log to attach when the output is too long to show inline."""
    if len(report.excerpt.strip()) <= _INLINE_CHARS or report.log_location is None:
        return None
    location = report.log_location
    if logs is not None:
        data = await logs.read(location, limit=_ATTACH_BYTES)
    else:
        data = await asyncio.to_thread(read_file, Path(location), _ATTACH_BYTES)
    if data is None:
        log.warning("run %s: its log %s cannot be read", report.run_id, location)
        return None
    return Attachment(filename=f"run-{report.run_id}.log", content=data.decode("utf-8", "replace"))


def result_text(
    task: TaskSnapshot, report: RunReport, *, retrying: bool = False, labels: Labels = ENGLISH
) -> str:
    """Status, duration, summary and an excerpt of the output; Kairos's words in
    ``labels``' language, the title, summary, error and output as they are."""
    kind = task.action.get("type")
    if kind == "digest" and report.ok:
        return report.summary
    parts = {"task": f"#{task.id} '{task.title}'", "took": f"{report.duration_seconds:.1f} s"}
    if report.ok:
        frame = "✓ {task} completed in {took}: {summary}"
        head = labels.fill(frame, **parts, summary=report.summary)
    else:
        frame = (
            "✗ {task} failed after {took} (attempt {attempt}; it will be retried): {error}"
            if retrying
            else "✗ {task} failed after {took}: {error}"
        )
        error = report.error or report.summary
        head = labels.fill(frame, **parts, attempt=report.attempt, error=error)
    excerpt = report.excerpt.strip()
    if not excerpt:
        return head
    if len(excerpt) > _INLINE_CHARS:
        excerpt = "…" + excerpt[-_INLINE_CHARS:]
        command = f"`kairos runs logs {report.run_id}`"
        cut = labels.fill("(output cut; the full log is attached, or {command})", command=command)
        head += f"\n{cut}"
    return f"{head}\n```\n{excerpt}\n```"
