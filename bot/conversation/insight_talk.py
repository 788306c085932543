"""What people say about notifications, reports and estimates.

"my quiet hours are 19:00–08:00", "no quiet hours", "send my reminders by DM"
(or "in the thread", "in the channel"), "batch low priority notifications every
30 minutes", "stop batching", "mute #5", "unmute #5", "my settings";
"how did the team do last week?", "monthly report for #eng";
"how long will 'deploy v2' take?".
"""

from __future__ import annotations

import re

from bot.conversation import replies
from bot.conversation.speaker import Speaker
from core.errors import KairosError
from core.insight.periods import Span
from core.insight.report import report_sections
from core.messages import Attachment, Reply
from core.notices.prefs import Route
from core.services.insight import InsightService
from core.services.notices import NoticeService
from core.services.tasks import TaskService
from core.store import TaskQuery


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*(?:please\s+|kairos,?\s+)?{pattern}\s*[.!?]*\s*$", re.IGNORECASE)


_TIME = r"\d{1,2}(?:[:.h]\d{2})?\s*(?:am|pm)?"
QUIET = _p(
    rf"(?:my\s+quiet\s+hours\s+are|set\s+my\s+quiet\s+hours\s+to|quiet\s+hours)\s+"
    rf"(?:from\s+)?(?P<start>{_TIME})\s*(?:-|–|—|to|until)\s*(?P<end>{_TIME})"
)
NO_QUIET = _p(r"(?:no|remove|clear|turn off)\s+(?:my\s+)?quiet\s+hours")
ROUTE = _p(
    r"(?:send|deliver|post)\s+(?:my\s+)?(?:reminders|notifications|notices|alerts)\s+"
    r"(?:by|via|as|in|to)\s+(?:a\s+|the\s+|my\s+)?(?P<route>dms?|direct messages?|thread|channel)"
)
BATCH = _p(
    r"batch\s+(?:my\s+)?(?:low[- ]priority\s+)?(?:notifications|reminders|notices)\s+"
    r"every\s+(?P<n>\d{1,4})\s*(?P<unit>minutes?|mins?|hours?|h)"
)
NO_BATCH = _p(r"(?:stop|no|don't)\s+batch(?:ing)?(?:\s+(?:my\s+)?notifications)?")
MUTE = _p(r"(?P<un>un)?mute\s+(?:task\s+)?#?(?P<id>\d{1,12})")
SETTINGS = _p(r"(?:show\s+)?my\s+(?:notification\s+)?settings|my\s+preferences")
REPORT = _p(
    r"(?:how\s+did\s+(?:the\s+)?(?:team|we)\s+do\s+(?P<when>last\s+week|last\s+month|this\s+week)"
    r"|(?P<span>weekly|monthly)\s+report(?:\s+for\s+#(?P<chan>[\w.-]+))?"
    r"|report\s+for\s+(?P<when2>last\s+week|last\s+month)(?:\s+(?:for|in)\s+#(?P<chan2>[\w.-]+))?)"
)
HOW_LONG = _p(
    r"how\s+long\s+(?:will|does|would|should)\s+(?:task\s+)?(?P<what>#?\d{1,12}|'[^']+'|\"[^\"]+\"|.+?)"
    r"\s+(?:usually\s+)?take"
)


class InsightTalk:
    """Answers the sentences above; ``None`` for anything else."""

    def __init__(
        self, *, notices: NoticeService, insight: InsightService, tasks: TaskService
    ) -> None:
        self._notices = notices
        self._insight = insight
        self._tasks = tasks

    async def answer(self, text: str, speaker: Speaker) -> list[Reply] | None:
        member = speaker.member
        if found := QUIET.match(text):
            prefs = await self._notices.set_quiet(member, found["start"], found["end"])
            assert prefs.quiet is not None
            return [
                replies.text(
                    f"Quiet hours set: {prefs.quiet[0]:%H:%M}–{prefs.quiet[1]:%H:%M} "
                    f"({prefs.timezone}). Notifications in that time wait until it ends."
                )
            ]
        if NO_QUIET.match(text):
            await self._notices.set_quiet(member, None, None)
            return [replies.text("Quiet hours removed: notifications go out when they happen.")]
        if found := ROUTE.match(text):
            word = found["route"].lower()
            route = (
                Route.THREAD
                if word == "thread"
                else Route.CHANNEL
                if word == "channel"
                else Route.DM
            )
            prefs = await self._notices.set_route(member, route)
            return [replies.text("Done. " + prefs.describe().splitlines()[1].strip("• ") + ".")]
        if found := BATCH.match(text):
            minutes = int(found["n"]) * (60 if found["unit"].lower().startswith("h") else 1)
            await self._notices.set_batch(member, minutes)
            return [
                replies.text(
                    f"Low-priority notifications will come together, once every {minutes} min."
                )
            ]
        if NO_BATCH.match(text):
            await self._notices.set_batch(member, None)
            return [replies.text("Batching off: each notification goes out as it happens.")]
        if found := MUTE.match(text):
            task = await self._tasks.get(int(found["id"]), workspace_id=speaker.workspace_id)
            muted = not found["un"]
            await self._notices.set_muted(member, task.id, muted=muted)
            said = "Muted" if muted else "Unmuted"
            more = " You won't get notifications about it." if muted else ""
            return [replies.text(f"{said} #{task.id} '{task.title}'.{more}", task_id=task.id)]
        if SETTINGS.match(text):
            return [replies.text((await self._notices.preferences(member)).describe())]
        if found := REPORT.match(text):
            return [await self._report(found, speaker)]
        if found := HOW_LONG.match(text):
            return [await self._how_long(found["what"].strip().strip("'\""), speaker)]
        return None

    async def _report(self, found: re.Match[str], speaker: Speaker) -> Reply:
        when = (found["when"] or found["when2"] or "").lower()
        span = (
            Span.MONTH
            if "month" in when or (found["span"] or "").lower() == "monthly"
            else Span.WEEK
        )
        channel = found["chan"] or found["chan2"]
        period = self._insight.period(span, speaker.tz)
        report, text = await self._insight.report(speaker.workspace_id, period, channel=channel)
        png = await self._insight.page_png(speaker.workspace_id, period, channel=channel)
        name = f"report-{period.start:%Y-%m-%d}-{span.value}.png"
        return Reply(
            text=text,
            sections=report_sections(report),
            attachment=Attachment(filename=name, content="Charts for this report", data=png),
        )

    async def _how_long(self, what: str, speaker: Speaker) -> Reply:
        ws = speaker.workspace_id
        task = None
        if what.lstrip("#").isdigit():
            try:
                task = await self._tasks.get(int(what.lstrip("#")), workspace_id=ws)
            except KairosError:
                return replies.error(f"There is no task {what}. Say 'list' to see tasks.")
        else:
            same = await self._tasks.query(TaskQuery(text=what, limit=20), workspace_id=ws)
            exact = [t for t in same if t.title.lower() == what.lower()]
            task = exact[0] if len(exact) == 1 else None
        if task is not None and task.kind == "job":
            spread = await self._insight.job_durations(ws, task.id)
            if spread is None:
                return replies.text(
                    f"#{task.id} '{task.title}' has no finished runs yet, so I can't say how "
                    "long it takes.",
                    task_id=task.id,
                )
            return replies.text(
                f"#{task.id} '{task.title}' runs {spread.describe()}.", task_id=task.id
            )
        title = task.title if task else what
        estimate = await self._insight.estimate(
            ws,
            title,
            assignee=(
                task.assignees[0] if task and task.assignees else speaker.member.platform_user_id
            ),
            channel=task.channel_ref if task else speaker.inbound.channel_ref,
            task_id=task.id if task else None,
            created_at=task.created_at if task and task.status == "open" else None,
        )
        name = f"#{task.id} '{task.title}'" if task else f"'{what}'"
        if estimate is None:
            return replies.text(
                f"I can't estimate {name} yet: no finished tasks to learn from. Estimates "
                "come from how long similar finished tasks took."
            )
        return replies.text(
            f"{name} will likely take {estimate.describe()}.", task_id=task.id if task else None
        )
