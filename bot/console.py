"""The console chat: Kairos in a terminal, through the same conversation layer.

``to_inbound`` and ``render`` are the pure edge functions; ``ConsoleChat`` is the
read-eval-print loop and the ``ChatAdapter`` that reminders are posted to.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import TextIO

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from core.enums import Platform, Role
from core.messages import Inbound, Reply, ReplyKind
from core.models import Member
from core.ports import Conversation
from core.store import SqlStore

WORKSPACE_REF = "local"
CHANNEL_REF = "console"
#: Console thread references name their task: ``task-12`` is task 12's thread.
THREAD_PREFIX = "task-"


async def console_owner(store: SqlStore, *, user: str, timezone: str) -> Member:
    """The console's own person: whoever runs Kairos on this machine owns its workspace.

    Registered before the first message so that the console user may create
    admin-only jobs (shell, SQL, HTTP); people of scripted conversations are
    declared separately and are members unless a script says otherwise.
    """
    workspace = await store.ensure_workspace(
        Platform.CONSOLE, WORKSPACE_REF, default_timezone=timezone
    )
    assert workspace.id is not None
    return await store.ensure_member(workspace.id, user, display_name=user, role=Role.OWNER)


def thread_task(thread_ref: str | None) -> int | None:
    """The task a console thread reference names, if it is one."""
    if thread_ref and thread_ref.startswith(THREAD_PREFIX):
        rest = thread_ref[len(THREAD_PREFIX) :]
        return int(rest) if rest.isdigit() else None
    return None


_STYLES = {
    ReplyKind.CONFIRMATION: "green",
    ReplyKind.ERROR: "red",
    ReplyKind.QUESTION: "yellow",
    ReplyKind.REMINDER: "bold magenta",
}


def to_inbound(line: str, *, user: str, timezone: str | None = None) -> Inbound:
    """A typed line as a direct message from ``user`` in the local workspace."""
    return Inbound(
        platform=Platform.CONSOLE,
        workspace_ref=WORKSPACE_REF,
        user_ref=user,
        user_name=user,
        user_timezone=timezone,
        text=line.strip(),
        channel_ref=CHANNEL_REF,
        is_direct=True,
    )


def render(reply: Reply) -> RenderableType:
    """A reply as rich text, with task lists as a table."""
    if reply.tasks:
        table = Table(title=reply.fields.get("heading") or None, expand=False)
        for column in ("#", "title", "when", "priority", "assignees", "status"):
            table.add_column(column)
        for line in reply.tasks:
            style = "red" if line.overdue else None
            table.add_row(
                str(line.task_id),
                line.title,
                line.when,
                line.priority,
                ", ".join(line.assignees),
                line.status,
                style=style,
            )
        return table
    prefix = "⏰ " if reply.kind is ReplyKind.REMINDER else ""
    text = Text(prefix + reply.text, style=_STYLES.get(reply.kind, ""))
    if reply.buttons:
        text.append("\n  " + "  ".join(f"[{b.label}]" for b in reply.buttons), style="dim")
    return text


class ConsoleChat:
    """Reads lines, hands them to the conversation, prints the replies.

    It is also the ``ChatAdapter`` for the console: reminders that fire while
    the chat is open are printed between prompts.
    """

    def __init__(
        self,
        *,
        conversation: Conversation,
        user: str,
        console: Console | None = None,
        stdin: TextIO | None = None,
        timezone: str | None = None,
    ) -> None:
        self._conversation = conversation
        self._user = user
        self._timezone = timezone
        self._console = console or Console()
        self._stdin = stdin or sys.stdin

    async def send(self, reply: Reply) -> str | None:
        self._console.print(render(reply))
        return None

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Converse until end of input, ``quit``/``exit``, or ``stop`` is set."""
        self._console.print(
            "[bold]Kairos[/bold] — tell me what should happen and when. "
            "Type [cyan]help[/cyan] for examples, [cyan]quit[/cyan] to leave."
        )
        while stop is None or not stop.is_set():
            line = await self._read_line()
            if line == "" or line.strip().lower() in {"quit", "exit", ":q"}:
                break
            if not line.strip():
                continue
            replies = await self._conversation.handle(
                to_inbound(line, user=self._user, timezone=self._timezone)
            )
            for reply in replies:
                await self.send(reply)

    async def _read_line(self) -> str:
        """One line from stdin without blocking the loop.

        A daemon thread, not the default executor: a read blocked on a terminal
        must not hold up shutdown after Ctrl-C.
        """
        loop = asyncio.get_running_loop()
        result: asyncio.Future[str] = loop.create_future()

        def deliver(line: str) -> None:
            if not result.done():
                result.set_result(line)

        def read() -> None:
            try:
                line = self._prompt()
            except (OSError, ValueError):
                line = ""
            loop.call_soon_threadsafe(deliver, line)

        threading.Thread(target=read, name="kairos-stdin", daemon=True).start()
        return await result

    def _prompt(self) -> str:
        if self._stdin.isatty():
            self._console.print("[bold cyan]you ›[/bold cyan] ", end="")
        line = self._stdin.readline()
        return line if line else ""
