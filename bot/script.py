"""Scripted conversations: ``kairos chat --script`` (see shared/CONVERSATION.md).

A script is JSON Lines: people speak in places (``dm``, ``#chan``,
``#chan>TASK``), press buttons, let time pass (``wait``), restart Kairos or
stop it for a while, and dump the tasks. Kairos runs for real — the same
conversation, services, scheduler, workers and notify executor as on Slack,
with the platform ``console`` — against a ``ManualClock`` that moves only when
the script says so. Everything Kairos says becomes one JSON output line.

The clock is stepped from one due instant to the next (task cursors and
waiting runs, as the database has them), and each instant is allowed to
settle before the next, so a reminder's output line carries its fire time.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import Kairos
from bot.console import THREAD_PREFIX, WORKSPACE_REF
from bot.console import thread_task as _thread_task
from bot.settings import Settings
from core.clock import ManualClock
from core.enums import Platform, Role, TaskStatus
from core.errors import KairosError
from core.messages import Inbound, Reply
from core.models import Member, TaskPublic
from core.schedule import check_timezone
from core.store import TaskQuery
from core.store.timeline import TimelineStore

#: Button names in scripts → the conversation's button actions.
PRESSES = {
    "done": "task.done",
    "run": "task.run",
    "reopen": "task.reopen",
    "restore": "task.restore",
    "approve": "task.approve",
    "cancel": "task.cancel",
}
_SNOOZE = re.compile(r"^snooze:(\d{1,5}|tomorrow)$")
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_PLACE = re.compile(r"^(?:dm|#(?P<chan>[\w.-]{1,80})(?:>(?P<task>\d{1,12}))?)$")
_ROLES = {r.value for r in Role}
#: Real seconds one clock instant may take to settle before the clock is nudged.
SETTLE_SECONDS = 10.0


class ScriptError(ValueError):
    """A malformed script line: what is wrong with which line."""

    def __init__(self, line_no: int, message: str) -> None:
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds."""
    found = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if not found or text.strip().upper() in {"P", "PT"}:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as 'PT90M' or 'P1D'")
    parts = {k: float(v) for k, v in found.groupdict().items() if v}
    return timedelta(
        weeks=parts.get("w", 0),
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )


@dataclass(frozen=True, slots=True)
class Step:
    """One validated script line."""

    line_no: int
    kind: str  # person | say | press | wait | restart | stop | dump
    data: dict[str, Any]


def _require_str(obj: dict[str, Any], key: str, line_no: int) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(line_no, f"'{key}' must be a non-empty string")
    return value


def _person_name(obj: dict[str, Any], key: str, line_no: int) -> str:
    name = _require_str(obj, key, line_no).strip().lstrip("@")
    if not re.fullmatch(r"[\w.-]{1,64}", name):
        raise ScriptError(line_no, f"'{key}': {name!r} is not a person's name (letters, digits)")
    return name


def parse_line(line_no: int, raw: str) -> Step | None:
    """Validate one script line (``None`` for a blank line)."""
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ScriptError(line_no, f"not valid JSON ({exc.msg})") from exc
    if not isinstance(obj, dict):
        raise ScriptError(line_no, "a script line must be a JSON object")
    if "person" in obj:
        name = _person_name(obj, "person", line_no)
        data: dict[str, Any] = {"name": name}
        if "tz" in obj:
            try:
                data["tz"] = check_timezone(_require_str(obj, "tz", line_no))
            except (KairosError, ValueError) as exc:
                raise ScriptError(line_no, f"'tz': {obj['tz']!r} is not an IANA zone") from exc
        if "role" in obj:
            role = obj["role"]
            if role not in _ROLES:
                raise ScriptError(line_no, f"'role' must be one of {', '.join(sorted(_ROLES))}")
            data["role"] = role
        return Step(line_no, "person", data)
    if "say" in obj or "press" in obj:
        who = _person_name(obj, "as", line_no)
        if "say" in obj:
            text = obj["say"]
            if not isinstance(text, str):
                raise ScriptError(line_no, "'say' must be a string")
            where = obj.get("in", "dm")
            if not isinstance(where, str) or not _PLACE.match(where):
                raise ScriptError(line_no, "'in' must be 'dm', '#channel' or '#channel>TASK'")
            return Step(line_no, "say", {"as": who, "in": where, "text": text})
        press = obj["press"]
        if not isinstance(press, str) or not (press in PRESSES or _SNOOZE.match(press)):
            raise ScriptError(
                line_no, f"unknown button {press!r}; use {', '.join(PRESSES)} or snooze:N"
            )
        task = obj.get("task")
        if not isinstance(task, int) or isinstance(task, bool) or task < 1:
            raise ScriptError(line_no, "'task' must be a task number")
        return Step(line_no, "press", {"as": who, "press": press, "task": task})
    if "wait" in obj or "stop" in obj:
        key = "wait" if "wait" in obj else "stop"
        try:
            delta = parse_duration(obj[key])
        except (ValueError, AttributeError) as exc:
            raise ScriptError(line_no, f"'{key}': {exc}") from exc
        return Step(line_no, key, {"delta": delta})
    if "restart" in obj:
        if obj["restart"] is not True:
            raise ScriptError(line_no, "'restart' must be true")
        return Step(line_no, "restart", {})
    if "dump" in obj:
        if obj["dump"] != "tasks":
            raise ScriptError(line_no, "'dump' must be 'tasks'")
        return Step(line_no, "dump", {})
    raise ScriptError(
        line_no, "unknown line; expected one of say, press, person, wait, restart, stop, dump"
    )


def parse_script(lines: Iterable[str]) -> list[Step]:
    """Every line validated up front: a malformed script does nothing at all."""
    steps = []
    for number, raw in enumerate(lines, start=1):
        step = parse_line(number, raw)
        if step is not None:
            steps.append(step)
    return steps


@dataclass
class _Person:
    name: str
    tz: str
    role: Role = Role.MEMBER
    seen: bool = False  # registered: later messages keep their stored zone


class ScriptConsole:
    """The console ``ChatAdapter`` while a script runs: reminders become output lines."""

    def __init__(self, runner: ScriptRunner) -> None:
        self._runner = runner

    async def send(self, reply: Reply) -> str | None:
        if reply.thread_ref:
            where = f"#{reply.channel_ref}>{_thread_task(reply.thread_ref) or reply.thread_ref}"
        elif reply.channel_ref:
            where = f"#{reply.channel_ref}"
        else:
            where = "dm"
        to = reply.user_ref if where == "dm" or reply.ephemeral else None
        visibility = "private" if where == "dm" or reply.ephemeral else "public"
        self._runner.emit(reply, to=to, where=where, visibility=visibility)
        return None


@dataclass
class ScriptRunner:
    """Runs validated steps against a real Kairos on a manual clock."""

    database_url: str
    now: datetime
    tz: str
    write: Callable[[str], None]
    settle_seconds: float = SETTLE_SECONDS
    clock: ManualClock = field(init=False)
    _kairos: Kairos | None = field(default=None, init=False)
    _people: dict[str, _Person] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.clock = ManualClock(self.now)

    # --- output -----------------------------------------------------------------

    def emit(self, reply: Reply, *, to: str | None, where: str, visibility: str) -> None:
        text = reply.text
        if reply.buttons:
            text += " " + " ".join(f"[{b.label}]" for b in reply.buttons)
        line = {
            "at": self._iso(self.clock.now()),
            "to": to,
            "in": where,
            "visibility": visibility,
            "task": reply.task_id,
            "text": text,
        }
        self.write(json.dumps(line, ensure_ascii=False))

    def _iso(self, when: datetime) -> str:
        return when.astimezone(ZoneInfo(self.tz)).isoformat(timespec="seconds")

    # --- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        settings = Settings(database_url=self.database_url, default_timezone=self.tz)
        kairos = await Kairos.open(settings, clock=self.clock)
        kairos.add_chat(Platform.CONSOLE, ScriptConsole(self))
        await kairos.start()
        self._kairos = kairos
        await self._settle()

    async def close(self) -> None:
        if self._kairos is not None:
            await self._kairos.close()
            self._kairos = None

    @property
    def kairos(self) -> Kairos:
        assert self._kairos is not None, "the runner is not started"
        return self._kairos

    async def run(self, steps: list[Step]) -> None:
        await self.start()
        try:
            for step in steps:
                await self.step(step)
        finally:
            await self.close()

    async def step(self, step: Step) -> None:
        handler = getattr(self, f"_do_{step.kind}")
        await handler(step.data)

    # --- the steps ----------------------------------------------------------------

    async def _do_person(self, data: dict[str, Any]) -> None:
        person = self._person(data["name"])
        person.tz = data.get("tz", person.tz)
        person.role = Role(data.get("role", person.role))
        member = await self._member(person)
        person.seen = True
        if member.role != person.role or member.timezone != person.tz:
            await self.kairos.store.update_member(
                member.id or 0, role=person.role, timezone=person.tz
            )

    async def _do_say(self, data: dict[str, Any]) -> None:
        person = self._person(data["as"])
        await self._member(person)
        person.seen = True
        found = _PLACE.match(data["in"])
        assert found is not None
        channel, task = found.group("chan"), found.group("task")
        thread = f"{THREAD_PREFIX}{task}" if task else None
        inbound = _inbound(person.name, data["text"], channel=channel, thread=thread)
        replies = await self.kairos.conversation.handle(inbound)
        self._answer(replies, person, data["in"])
        await self._settle()

    async def _do_press(self, data: dict[str, Any]) -> None:
        person = self._person(data["as"])
        await self._member(person)
        person.seen = True
        press: str = data["press"]
        task_id: int = data["task"]
        where, channel, thread = "dm", None, None
        task = await self._find(task_id)
        if task is not None and task.channel_ref:
            channel = task.channel_ref
            thread = task.thread_ref
            where = f"#{channel}>{task_id}" if thread else f"#{channel}"
        inbound = _inbound(person.name, "", channel=channel, thread=thread)
        if press.startswith("snooze:"):
            action, value = "task.snooze", f"{task_id}:{press.split(':', 1)[1]}"
        else:
            action, value = PRESSES[press], str(task_id)
        replies = await self.kairos.conversation.press(inbound, action=action, value=value)
        # A button press is answered to the presser alone.
        for reply in replies:
            self.emit(reply, to=person.name, where=where, visibility="private")
        await self._settle()

    async def _do_wait(self, data: dict[str, Any]) -> None:
        await self.advance(data["delta"])

    async def _do_restart(self, data: dict[str, Any]) -> None:
        await self.close()
        await self.start()

    async def _do_stop(self, data: dict[str, Any]) -> None:
        await self.close()
        self.clock.advance(data["delta"])
        await self.start()

    async def _do_dump(self, data: dict[str, Any]) -> None:
        self.write(json.dumps({"tasks": await self.dump()}, ensure_ascii=False))

    # --- helpers ------------------------------------------------------------------

    def _person(self, name: str) -> _Person:
        if name not in self._people:
            self._people[name] = _Person(name=name, tz=self.tz)
        return self._people[name]

    async def _member(self, person: _Person) -> Member:
        """The person as a member: registered in their zone and role on first sight.

        Later messages keep what the member has since changed ("set my timezone").
        """
        store = self.kairos.store
        workspace_id = await self._workspace_id()
        return await store.ensure_member(
            workspace_id,
            person.name,
            display_name=person.name,
            timezone=None if person.seen else person.tz,
            role=person.role,
        )

    async def _workspace_id(self) -> int:
        workspace = await self.kairos.store.ensure_workspace(
            Platform.CONSOLE, WORKSPACE_REF, default_timezone=self.tz
        )
        assert workspace.id is not None
        return workspace.id

    async def _find(self, task_id: int) -> TaskPublic | None:
        try:
            return await self.kairos.tasks.get(task_id, workspace_id=await self._workspace_id())
        except KairosError:
            return None

    def _answer(self, replies: list[Reply], person: _Person, where: str) -> None:
        """Replies to a message: to its speaker, where it was said (unless routed)."""
        for reply in replies:
            place = where
            if reply.channel_ref is not None:
                place = f"#{reply.channel_ref}"
                if reply.thread_ref:
                    place += f">{_thread_task(reply.thread_ref) or reply.thread_ref}"
            elif reply.user_ref is not None and reply.user_ref != person.name:
                self.emit(reply, to=reply.user_ref, where="dm", visibility="private")
                continue
            private = place == "dm" or reply.ephemeral
            self.emit(
                reply, to=person.name, where=place, visibility="private" if private else "public"
            )

    async def advance(self, delta: timedelta) -> None:
        """Move the clock by ``delta``, stopping at every due instant on the way."""
        target = self.clock.now() + delta
        timeline = TimelineStore(self.kairos.db)
        while True:
            due = await timeline.next_due()
            if due is None or due > target:
                break
            if due > self.clock.now():
                self.clock.set(due)
            if not await self._settle():
                break
        if target > self.clock.now():
            self.clock.set(target)
        await self._settle()

    async def _settle(self) -> bool:
        """Let everything due by now finish; False if it would not (after nudges)."""
        timeline = TimelineStore(self.kairos.db)
        deadline = time.monotonic() + self.settle_seconds
        nudges = 0
        quiet = 0
        while True:
            for _ in range(5):
                await asyncio.sleep(0)
            busy = self.kairos.scheduler.pool.busy
            left = await timeline.unsettled(self.clock.now())
            if busy == 0 and left == 0:
                quiet += 1
                if quiet >= 3:
                    return True
                continue
            quiet = 0
            if time.monotonic() > deadline:
                if nudges >= 3:
                    return False
                # The workers poll the database once a clock second: nudge it.
                nudges += 1
                self.clock.advance(timedelta(seconds=1))
                deadline = time.monotonic() + self.settle_seconds
            await asyncio.sleep(0.002)

    async def dump(self) -> list[dict[str, Any]]:
        """Every task that is not deleted, as the store has it."""
        workspace_id = await self._workspace_id()
        statuses = frozenset(s for s in TaskStatus if s is not TaskStatus.DELETED)
        found = await self.kairos.tasks.query(
            TaskQuery(statuses=statuses, limit=1000), workspace_id=workspace_id
        )
        members = {
            m.id: m.platform_user_id for m in await self.kairos.store.list_members(workspace_id)
        }
        now = self.clock.now()
        out = []
        for task in sorted(found, key=lambda t: t.id):
            out.append(
                {
                    "id": task.id,
                    "title": task.title,
                    "kind": str(task.kind),
                    "status": str(task.status),
                    "priority": str(task.priority),
                    "due": self._iso(task.due) if task.due else None,
                    "next_runs": [self._iso(t) for t in _upcoming(task, now)],
                    "assignees": list(task.assignees),
                    "channel": task.channel_ref,
                    "depends_on": list(task.depends_on),
                    "created_by": members.get(task.created_by) if task.created_by else None,
                    "private": bool(getattr(task, "private", False)),
                }
            )
        return out


def _upcoming(task: TaskPublic, now: datetime) -> list[datetime]:
    """Up to three coming fires of an open, enabled task."""
    if task.status != TaskStatus.OPEN or not task.enabled or task.next_fire_at is None:
        return []
    from core.schedule import parse_schedule
    from core.triggers import next_runs

    first = task.next_fire_at
    try:
        later = next_runs(parse_schedule(task.schedule), first, 2) if task.schedule else []
    except KairosError:
        later = []
    return [first, *later][:3]


async def run_script(
    lines: Iterable[str],
    *,
    write: Callable[[str], None],
    now: datetime,
    tz: str,
    database_url: str | None = None,
) -> int:
    """Run a whole script; returns the exit status (2 for a malformed script)."""
    try:
        steps = parse_script(lines)
    except ScriptError as exc:
        write(json.dumps({"error": str(exc)}))
        return 2
    with tempfile.TemporaryDirectory(prefix="kairos-script-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'kairos.db'}"
        runner = ScriptRunner(database_url=url, now=now, tz=tz, write=write)
        await runner.run(steps)
    return 0


def _inbound(name: str, text: str, *, channel: str | None, thread: str | None) -> Inbound:
    """What ``name`` says (or presses, with no text) in ``channel`` (a DM without one)."""
    return Inbound(
        platform=Platform.CONSOLE,
        workspace_ref=WORKSPACE_REF,
        user_ref=name,
        user_name=name,
        user_timezone=None,  # the member's stored zone (they may have changed it)
        text=text,
        channel_ref=channel,
        thread_ref=thread,
        is_direct=channel is None,
    )
