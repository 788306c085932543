"""Event sources in chat: webhooks (create, list, rotate), table watches, conditions,
and checking what a new task subscribes to.

"create a webhook called deploy", "list webhooks", "rotate the deploy webhook
secret", "watch inserts into table orders", "run the cleanup when disk usage
exceeds 90 %". A webhook's secret is said once, privately (an ephemeral reply
in a channel, the DM itself otherwise), to the person who asked.

``subscription`` is asked before a task waiting for an event is created: it
names the source as the event layer knows it (``webhook:deploy``,
``task_completed:12``), or refuses, saying why — a subscription to a source that
does not exist or cannot run here is never confirmed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from bot.conversation import replies
from bot.conversation.speaker import Speaker
from core.enums import Role
from core.errors import InvalidInput, NotConfigured, NotFound, PermissionDenied
from core.events.conditions import Check
from core.events.files import split_watch
from core.events.layer import EventLayer
from core.events.model import SourceKind, source_name
from core.messages import Reply
from core.models_events import EventSource
from core.store.pg_triggers import insert_channel, install_insert_trigger
from integrations.supabase.realtime import realtime_table

_HOOK = r"['\"]?(?P<name>[\w.-]+)['\"]?"
_CREATE = (
    re.compile(
        rf"^(?:please\s+)?(?:create|make|add|set\s+up)\s+(?:a\s+|an\s+)?(?:new\s+)?"
        rf"(?:webhook|hook)\s+(?:called|named|for)\s+{_HOOK}$",
        re.I,
    ),
    re.compile(
        rf"^(?:please\s+)?(?:create|make|add|set\s+up)\s+(?:a\s+|an\s+|the\s+)?{_HOOK}\s+"
        r"(?:webhook|hook)$",
        re.I,
    ),
)
_LIST = re.compile(
    r"^(?:(?:list|show)(?:\s+(?:me|all|the|my))*\s+(?:web)?hooks|"
    r"what\s+(?:web)?hooks\s+(?:are\s+there|do\s+we\s+have|exist))$",
    re.I,
)
_ROTATE = (
    re.compile(
        rf"^(?:please\s+)?(?:rotate|regenerate|reset|renew|change)\s+(?:the\s+)?{_HOOK}\s+"
        r"(?:webhook|hook)(?:'s)?(?:\s+secret)?$",
        re.I,
    ),
    re.compile(
        r"^(?:please\s+)?(?:rotate|regenerate|reset|renew|change)\s+(?:the\s+)?"
        rf"(?:webhook\s+)?secret\s+(?:of|for)\s+(?:the\s+)?{_HOOK}(?:\s+(?:web)?hook)?$",
        re.I,
    ),
)
_TABLE = re.compile(
    r"^(?:please\s+)?(?:watch|listen\s+(?:to|for))\s+(?:new\s+)?(?:rows\s+|inserts?\s+)"
    r"(?:inserted\s+)?(?:into|in|on)\s+(?:the\s+)?(?:table\s+)?(?P<table>[\w.]+)(?:\s+table)?$",
    re.I,
)
_ROW_EVENT = re.compile(
    r"^event:(?:a-|new-)*rows?-(?:is-|are-|gets-|get-)?(?:inserted|added)-(?:into|in|to)-"
    r"(?:the-)?(?:table-)?(?P<table>\w+)(?:-table)?$"
)
_DISK = (
    re.compile(
        r"^(?:please\s+)?(?:run|start|do)\s+(?P<task>.+?)\s+(?:when|whenever|if)\s+"
        r"disk\s+usage\s+(?:exceeds|is\s+over|goes\s+(?:over|above)|is\s+above|>)\s+"
        r"(?P<n>\d{1,3})\s*%$",
        re.I,
    ),
    re.compile(
        r"^(?:when|whenever|if)\s+disk\s+usage\s+(?:exceeds|is\s+over|goes\s+(?:over|above)|"
        r"is\s+above|>)\s+(?P<n>\d{1,3})\s*%,?\s+(?:run|start|do)\s+(?P<task>.+?)$",
        re.I,
    ),
)
#: Words around a webhook's name in "when the deploy webhook fires".
_HOOK_NOISE = frozenset(
    {"webhook", "hook", "fires", "fired", "is", "gets", "called", "triggered", "hit", "receives"}
)
_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})

#: Resolves a task reference said in chat to the task's id (may raise ``Asked``).
TaskResolver = Callable[[str], Awaitable[int]]
#: Subscribes an existing task (by reference) to an event name; returns its id.
Subscriber = Callable[[str, str], Awaitable[int]]


def _admin(speaker: Speaker, what: str) -> None:
    if Role(speaker.member.role) not in _MANAGERS:
        raise PermissionDenied(f"Only workspace admins may {what}.", hint="Ask an admin.")


class EventsTalk:
    """Answers the event requests of a conversation, over one ``EventLayer``."""

    def __init__(self, layer: EventLayer) -> None:
        self._layer = layer

    async def answer(
        self, text: str, speaker: Speaker, *, subscribe: Subscriber
    ) -> list[Reply] | None:
        """Replies when ``text`` is an event request, else ``None``."""
        said = text.strip().rstrip(".!")
        for pattern in _CREATE:
            if m := pattern.match(said):
                issued = await self._layer.webhooks.create(m["name"], actor=speaker.member)
                return [self._secret("Created", issued.hook.name, issued.hook.path, issued.secret)]
        for pattern in _ROTATE:
            if m := pattern.match(said):
                issued = await self._layer.webhooks.rotate(m["name"], actor=speaker.member)
                return [self._secret("Rotated", issued.hook.name, issued.hook.path, issued.secret)]
        if _LIST.match(said):
            hooks = await self._layer.webhooks.list()
            if not hooks:
                return [
                    replies.text(
                        "No webhooks yet. An admin can say 'create a webhook called deploy'."
                    )
                ]
            lines = [f"• {h.name} — POST {h.path}" for h in hooks]
            return [replies.text("Webhooks:\n" + "\n".join(lines))]
        if m := _TABLE.match(said):
            channel = await self.watch_table(m["table"], speaker)
            if channel.startswith("supabase:"):
                return [
                    replies.text(
                        f"Inserts into {m['table']} now come through Supabase Realtime "
                        f"({channel}); the table must be in the supabase_realtime publication. "
                        f"Tasks can wait for them: 'when a row is inserted into table "
                        f"{m['table']}, …'."
                    )
                ]
            return [
                replies.text(
                    f"Inserts into {m['table']} now notify the channel '{channel}'. Tasks can "
                    f"wait for them: 'when a row is inserted into table {m['table']}, …'."
                )
            ]
        for pattern in _DISK:
            if m := pattern.match(said):
                return [await self._disk(int(m["n"]), m["task"], speaker, subscribe)]
        return None

    @staticmethod
    def _secret(verb: str, name: str, path: str, secret: str) -> Reply:
        return Reply(
            text=(
                f"{verb} the webhook '{name}': POST {path}. Its secret (shown only to you, "
                f"only this once): {secret}\nSign the raw body with HMAC-SHA256 "
                "(X-Kairos-Signature: t=…,v1=… or GitHub's X-Hub-Signature-256)."
            ),
            ephemeral=True,
        )

    async def watch_table(self, table: str, speaker: Speaker) -> str:
        """Install the insert trigger on ``table`` (admins; PostgreSQL); its channel.

        With Supabase Realtime configured nothing is installed: the table is recorded
        as a source (admins) and its event name (``supabase:public.orders``) returned.
        """
        if self._layer.realtime is not None:
            return await self._realtime_table(table, speaker)
        _admin(speaker, "install a trigger on a database table")
        dsn = self._layer.listen_dsn
        if dsn is None:
            raise NotConfigured(
                "Database events need PostgreSQL; this Kairos runs on SQLite.",
                hint="Set KAIROS_DATABASE_URL to a PostgreSQL (or Supabase session) URL.",
            )
        channel = await install_insert_trigger(dsn, table)
        await self._add_table_source(
            SourceKind.POSTGRES, channel, speaker, {"table": table, "trigger": "insert"}
        )
        return channel

    async def _realtime_table(self, table: str, speaker: Speaker) -> str:
        """A table's inserts through Supabase Realtime: the first subscription is an
        admin's (the service key reads every row), recorded as a source."""
        name = realtime_table(table)
        if await self._layer.store.source(SourceKind.SUPABASE, name) is None:
            _admin(speaker, "subscribe to a database table's inserts")
            config = {"table": name, "via": "realtime"}
            await self._add_table_source(SourceKind.SUPABASE, name, speaker, config)
        return f"supabase:{name}"

    async def _add_table_source(
        self, kind: SourceKind, name: str, speaker: Speaker, config: dict[str, str]
    ) -> None:
        now = self._layer.clock.now()
        await self._layer.store.add_source(
            EventSource(
                kind=kind.value,
                name=name,
                workspace_id=speaker.workspace_id,
                created_by=speaker.member.id,
                config=config,
                created_at=now,
                updated_at=now,
            )
        )

    async def _disk(
        self, percent: int, task_ref: str, speaker: Speaker, subscribe: Subscriber
    ) -> Reply:
        _admin(speaker, "add a condition (its probe runs a command on this machine)")
        name = f"disk-usage-over-{percent}"
        if await self._layer.store.source(SourceKind.CONDITION, name) is None:
            await self._layer.conditions.create(
                name,
                probe={"type": "shell", "command": "df --output=pcent /"},
                check=Check(on="number", op=">", value=percent),
                every_seconds=60,
                actor=speaker.member,
            )
        task_id = await subscribe(task_ref, f"condition:{name}")
        return replies.text(
            f"#{task_id} will run when disk usage of / goes above {percent} % (checked every "
            "minute; it runs once each time usage crosses the line, not on every check).",
            task_id=task_id,
        )

    @staticmethod
    def title_for(event: str) -> str:
        """A title for a task that only says "notify #eng" when ``event`` happens."""
        kind, _, rest = event.partition(":")
        inserted = re.match(r"^kairos_(\w+)_inserted$", rest)
        titles = {
            "webhook": f"The {rest} webhook fired",
            "task_completed": f"Task #{rest} is done",
            "task_failed": f"Task #{rest} failed",
            "file": f"A file arrived in {rest}",
            "condition": f"Condition '{rest}' became true",
            "supabase": f"A row was inserted into {rest}",
            "postgres": f"A row was inserted into {inserted[1]}"
            if inserted
            else f"Notification on {rest}",
        }
        return titles.get(kind, event)

    async def subscription(self, name: str, speaker: Speaker, resolve: TaskResolver) -> str:
        """The event a new task waits for, as stored; refuses sources that cannot fire here."""
        kind, _, rest = name.partition(":")
        if kind in ("task_completed", "task_failed"):
            ref = rest.strip().strip("'\"")
            if not ref or ref == "this":
                raise InvalidInput(
                    "Which task should I wait for?", hint="Name it: 'when #12 is done, …'."
                )
            return f"{kind}:{await resolve(ref)}"
        if kind == SourceKind.WEBHOOK.value:
            words = [w for w in rest.split("-") if w and w not in _HOOK_NOISE]
            for candidate in dict.fromkeys([rest, "-".join(words), *(words[:1])]):
                if candidate and await self._layer.webhooks.secret_of(candidate) is not None:
                    return f"webhook:{candidate}"
            shown = "-".join(words) or rest
            raise NotFound(
                f"There is no webhook called '{shown}', so nothing would ever fire this; "
                "nothing was created.",
                hint=f"An admin can say 'create a webhook called {shown}' first.",
            )
        if kind == SourceKind.FILE.value:
            directory, _glob = split_watch(rest)
            if not directory.is_dir():
                raise NotFound(
                    f"I can't watch {directory}: it is not a folder on the machine Kairos runs "
                    "on; nothing was created.",
                    hint="Create the folder, or name one that exists.",
                )
            return f"file:{rest}"
        if kind == SourceKind.CONDITION.value:
            if await self._layer.store.source(SourceKind.CONDITION, source_name(rest)) is None:
                raise NotFound(f"There is no condition called '{rest}'; nothing was created.")
            return name
        table = _ROW_EVENT.match(name)
        if kind == SourceKind.SUPABASE.value or (table and self._layer.realtime is not None):
            if self._layer.realtime is None:
                raise NotConfigured(
                    "Supabase Realtime is not configured here, so nothing was created.",
                    hint="Set KAIROS_SUPABASE_URL and KAIROS_SUPABASE_KEY.",
                )
            return await self._realtime_table(table["table"] if table else rest, speaker)
        if table is not None or kind == SourceKind.POSTGRES.value:
            channel = insert_channel(table["table"]) if table else rest
            if self._layer.listen_dsn is None:
                raise NotConfigured(
                    "Database events need PostgreSQL; this Kairos runs on SQLite, so nothing "
                    "was created.",
                    hint="Set KAIROS_DATABASE_URL to a PostgreSQL (or Supabase session) URL.",
                )
            if table and await self._layer.store.source(SourceKind.POSTGRES, channel) is None:
                await self.watch_table(table["table"], speaker)  # admins only
            return f"postgres:{channel}"
        raise NotFound(
            f"I don't know a source for the event '{rest or name}', so nothing would fire it; "
            "nothing was created.",
            hint="I can react to webhooks, files in a folder, database inserts, conditions, "
            "and other tasks finishing or failing.",
        )
