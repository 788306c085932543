"""``SlackAdapter``: puts Kairos's replies, task cards and reminders into Slack.

It is the ``ChatAdapter`` for Slack (``send``, which the reminder notifier
``bot.notify.ChatNotifier`` posts through) and what the bolt listeners hand
their replies to (``deliver``). Every task
gets one card message whose ``ts`` is stored as the task's ``thread_ref``; the
card is re-rendered in place (``chat.update``) whenever the task changes, and
replies in its thread act on the task.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import card_labels
from bot.conversation.destination import destination, for_creator, task_of
from bot.conversation.labels import LabelSource, in_task_language, labels_of
from bot.slack import metadata
from bot.slack.blocks import SlackMessage, render, task_card
from bot.slack.outbound import Connections, PacedWebClient, Pacer
from core.errors import KairosError, NotConfigured
from core.messages import ENGLISH, Attachment, Inbound, Labels, Reply, ReplyKind
from core.models import TaskPublic
from core.ports import Clock, Metrics, NullMetrics

log = logging.getLogger(__name__)

#: chat.postMessage errors meaning Kairos cannot post in that channel (the person is told).
_UNREACHABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def unreachable(task: TaskPublic, channel: str, error: str) -> str:
    """Why Kairos cannot post in ``channel`` (a ``_UNREACHABLE`` error), and the fix."""
    where = f"#{channel}"
    if error == "is_archived":
        why = f"{where} is archived"
        fix = f"Pick another channel (e.g. 'move #{task.id} to #general')."
    elif error == "channel_not_found":
        why = f"I can't see {where} (a private channel I was not invited to?)"
        fix = f"Invite me there with `/invite @Kairos` in {where}, or pick another channel."
    else:
        why = f"I'm not a member of {where}"
        fix = f"Invite me with `/invite @Kairos` in {where}; later cards and reminders go there."
    return f"{why}. {fix}"


def unreachable_note(task: TaskPublic, channel: str, error: str) -> str:
    """What the person hears when the card cannot go where the task belongs."""
    why = unreachable(task, channel, error)
    return f"#{task.id} '{task.title}' is saved, but I could not post its card: {why}"


Respond = Callable[..., Awaitable[Any]]


class TaskReader(Protocol):
    """The store calls the adapter needs (``SqlStore`` has them)."""

    async def find_task(
        self, task_id: int, *, workspace_id: int | None = None
    ) -> TaskPublic | None: ...

    async def update_task(self, task_id: int, changes: Any, **kw: Any) -> TaskPublic: ...

    async def get_workspace(self, workspace_id: int) -> Any: ...

    async def get_member(self, member_id: int, *, workspace_id: int | None = None) -> Any: ...


def web_client(*, base_url: str, token: str | None = None) -> AsyncWebClient:
    """A Web API client that waits out 429s (``Retry-After``) and reconnects once.

    For bolt's own per-request clients. What Kairos posts goes through
    ``Clients``, whose clients are paced (``bot.slack.outbound``).
    """
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


class Clients:
    """The right ``AsyncWebClient`` for a workspace.

    Single-workspace mode: one client with the configured bot token. OAuth
    mode: the bot token of the team's installation, cached for a few minutes.
    Every client it hands out is paced to Slack's rate limits by one ``Pacer``
    per bot token (Slack counts per workspace), which also reports each call
    to ``metrics``.
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str | None,
        installations: AsyncInstallationStore | None,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self.base_url = base_url
        self._installations = installations
        self._clock = clock
        self._metrics = metrics or NullMetrics()
        self._pacers: dict[str, Pacer] = {}
        self._connections = Connections()
        self._single: AsyncWebClient | None = self._paced(token) if token else None
        self._cache: dict[str, tuple[datetime, AsyncWebClient]] = {}

    def _paced(self, token: str) -> PacedWebClient:
        pacer = self._pacers.get(token)
        if pacer is None:
            pacer = self._pacers[token] = Pacer(metrics=self._metrics)
        return PacedWebClient(
            pacer=pacer, connections=self._connections, token=token, base_url=self.base_url
        )

    def paced(self, client: AsyncWebClient) -> AsyncWebClient:
        """``client`` (e.g. bolt's per-request one) as a paced client for the same token."""
        if isinstance(client, PacedWebClient) or not client.token:
            return client
        if self._single is not None and client.token == self._single.token:
            return self._single
        return self._paced(client.token)

    @property
    def single(self) -> AsyncWebClient | None:
        return self._single

    async def close(self) -> None:
        """Close the kept-alive connections (at shutdown)."""
        await self._connections.close()

    def forget(self, team_id: str) -> None:
        self._cache.pop(team_id, None)

    async def for_team(self, team_id: str | None) -> AsyncWebClient:
        if self._single is not None:
            return self._single
        if self._installations is None or not team_id:
            raise NotConfigured(
                "Slack is not connected to this workspace.",
                hint="Set KAIROS_SLACK_BOT_TOKEN, or install the app via /slack/install.",
            )
        now = self._clock.now()
        cached = self._cache.get(team_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        bot = await self._installations.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            raise NotConfigured(
                f"Kairos is not installed in Slack workspace {team_id}.",
                hint="Install it via /slack/install.",
            )
        client = self._paced(bot.bot_token)
        self._cache[team_id] = (now + timedelta(minutes=5), client)
        return client


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a batch of replies answers: who asked, how, and from which message."""

    client: AsyncWebClient
    inbound: Inbound
    #: bolt's ``respond`` (response_url) for slash commands and button presses.
    respond: Respond | None = None
    #: Replies go only to the person who acted (button presses, modal saves).
    private: bool = False
    #: The message a button was pressed on (a card or a fired reminder).
    pressed_ts: str | None = None


class SlackAdapter:
    """Sends replies and reminders, and keeps task cards current."""

    def __init__(self, *, clients: Clients, store: TaskReader, clock: Clock) -> None:
        self._clients = clients
        self._store = store
        self._clock = clock
        #: (bot token, person) → their DM channel: it never changes, and asking
        #: ``conversations.open`` before every reminder doubles the calls.
        self._dms: dict[tuple[str | None, str], str] = {}
        self._labels: LabelSource | None = None

    def use_labels(self, labels: LabelSource) -> None:
        """Show cards' field names and buttons in the language of each task."""
        self._labels = labels

    async def labels(
        self, language: str, workspace_id: int | None, *, phrases: Iterable[str] = ()
    ) -> Labels:
        """Kairos's words in ``language``, with ``phrases`` (a view's own times)."""
        if workspace_id is None:
            return ENGLISH
        return await labels_of(self._labels, language, workspace_id, phrases=phrases)

    async def _card(self, task: TaskPublic, *, tz: str, note: str) -> SlackMessage:
        now = self._clock.now()
        labels = await card_labels(self._labels, task, tz=tz, now=now)
        return task_card(task, tz=tz, now=now, note=note, labels=labels)

    @property
    def clients(self) -> Clients:
        """The workspace clients (channel history for AI jobs uses them too)."""
        return self._clients

    # --- replies to something a person did -------------------------------------

    async def deliver(self, replies: Sequence[Reply], origin: Origin) -> None:
        # bolt's client for this request, paced with everything else this token sends.
        origin = replace(origin, client=self._clients.paced(origin.client))
        for reply in replies:
            try:
                await self._deliver_one(reply, origin)
            except SlackApiError as exc:
                # Never let one failed post lose the others; the error code is
                # safe to log (the token is not part of it).
                log.warning("Slack refused a reply: %s", exc.response.get("error"))
            except KairosError as exc:  # e.g. its card posted, not recorded: one line
                log.warning("a reply was not fully delivered: %s", _said(exc))

    async def _deliver_one(self, reply: Reply, origin: Origin) -> None:
        task = await task_of(reply, self._store)
        tz = origin.inbound.user_timezone or (task.timezone if task else "UTC")
        if task is not None and task.thread_ref and task.channel_ref:
            await self.refresh_card(origin.client, task, tz=tz, note=reply.text)
            if origin.pressed_ts and origin.pressed_ts != task.thread_ref:
                # Pressed on a fired reminder: that message shows the new state too.
                await self._update(
                    origin.client,
                    task.channel_ref,
                    origin.pressed_ts,
                    await self._card(task, tz=tz, note=reply.text),
                )
            await self._say(reply, origin)
            return
        if (
            task is not None
            and reply.kind in (ReplyKind.CONFIRMATION, ReplyKind.REMINDER)
            and str(task.status) not in {"done", "deleted"}
        ):
            # A private task (made in a DM, or a personal "remind me" said in a channel)
            # gets its card in the person's DM: only tasks meant for the channel are public.
            here = None if task.private else origin.inbound.channel_ref
            channel = task.channel_ref or here
            try:
                await self.post_card(
                    origin.client,
                    task,
                    tz=tz,
                    note=reply.text,
                    channel=channel,
                    user=origin.inbound.user_ref,
                )
            except SlackApiError as exc:
                error = str(exc.response.get("error"))
                if error not in _UNREACHABLE or channel is None:
                    raise
                # Never silently elsewhere: the person hears where it did not go and why.
                note = unreachable_note(task, channel, error)
                note = await in_task_language(self._labels, task, note)
                await self._say(Reply(text=note, task_id=task.id, ephemeral=True), origin)
                return
            elsewhere = channel is None or channel != origin.inbound.channel_ref
            if reply.ephemeral and (origin.respond is not None or elsewhere):
                await self._say(reply, origin)  # the person hears it where they asked
            return
        await self._say(reply, origin)

    async def _say(self, reply: Reply, origin: Origin) -> None:
        message = render(reply)
        inbound = origin.inbound
        private = reply.ephemeral or origin.private
        if origin.respond is not None:
            await origin.respond(
                text=message.text,
                blocks=message.blocks,
                response_type="ephemeral" if private else "in_channel",
                replace_original=False,
            )
            return
        channel = reply.channel_ref or inbound.channel_ref
        direct = inbound.is_direct
        if channel is None:
            channel, direct = await self._dm(origin.client, inbound.user_ref), True
        # A message in a channel is answered in its thread (a mention: the thread on
        # the mention itself), never at the top of the channel.
        thread = reply.thread_ref or inbound.thread_ref
        if thread is None and not direct and inbound.message_ref:
            thread = inbound.message_ref
        # An ephemeral message in a DM vanishes on reload: there a private answer
        # is an ordinary message (only the person is in their DM anyway).
        if private and not direct and not channel.startswith("D"):
            try:
                await origin.client.chat_postEphemeral(
                    channel=channel,
                    user=inbound.user_ref,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=thread,
                )
                return
            except SlackApiError as exc:
                if exc.response.get("error") not in _UNREACHABLE:
                    raise
                # Kairos is not in that channel: the answer goes to the person's DM.
                channel, thread = await self._dm(origin.client, inbound.user_ref), None
        response = await origin.client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread
        )
        if reply.attachment is not None:  # a report's charts, a long log
            ts = thread or str(response["ts"])
            await self._attach(origin.client, reply.attachment, channel, ts)

    # --- task cards ------------------------------------------------------------

    async def post_card(
        self,
        client: AsyncWebClient,
        task: TaskPublic,
        *,
        tz: str,
        note: str,
        channel: str | None,
        user: str,
    ) -> str:
        """Post the task's card and store its ``ts`` as the task's thread."""
        message = await self._card(task, tz=tz, note=note)
        target = channel or await self._dm(client, user)
        # Kairos not in ``channel``: the SlackApiError goes up; the caller tells the person.
        response = await self._post(client, target, message)
        ts, where = str(response["ts"]), str(response["channel"])
        await self._store.update_task(int(task.id), {"thread_ref": ts, "channel_ref": where})
        return ts

    async def refresh_card(
        self, client: AsyncWebClient, task: TaskPublic, *, tz: str, note: str = ""
    ) -> None:
        """Re-render the task's card where it stands (``chat.update``)."""
        if not (task.thread_ref and task.channel_ref):
            return
        fresh = await self._store.find_task(int(task.id)) or task
        card = await self._card(fresh, tz=tz, note=note)
        await self._update(client, task.channel_ref, task.thread_ref, card)

    async def _update(
        self, client: AsyncWebClient, channel: str, ts: str, message: SlackMessage
    ) -> None:
        try:
            await client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.blocks
            )
        except SlackApiError as exc:
            # A deleted card is no reason to fail the action that changed the task.
            log.info("card %s not updated: %s", ts, exc.response.get("error"))

    async def _post(
        self,
        client: AsyncWebClient,
        channel: str,
        message: SlackMessage,
        thread_ts: str | None = None,
    ) -> Any:
        return await client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, thread_ts=thread_ts
        )

    async def _dm(self, client: AsyncWebClient, user: str) -> str:
        key = (client.token, user)
        channel = self._dms.get(key)
        if channel is None:
            response = await client.conversations_open(users=user)
            channel = str(response["channel"]["id"])
            if len(self._dms) >= 10_000:
                self._dms.clear()  # a bound, not an LRU: re-asking is cheap
            self._dms[key] = channel
        return channel

    # --- ChatAdapter -----------------------------------------------------------

    async def _team_of(self, task: TaskPublic | None) -> str | None:
        if task is None:
            return None
        workspace = await self._store.get_workspace(task.workspace_id)
        return str(workspace.external_id)

    async def send(self, reply: Reply) -> str | None:
        """Post ``reply`` where it names: a thread, a channel, or a person's DM.

        This is the ``ChatAdapter`` the reminder notifier (``bot.notify``) uses.
        The workspace (for its bot token in OAuth mode) is the reply's task's,
        or ``fields['workspace_ref']``.
        """
        task = await task_of(reply, self._store)
        team = reply.fields.get("workspace_ref")
        if team is None and self._clients.single is None:
            # Only OAuth mode needs the workspace (its token): one read less per reminder.
            team = await self._team_of(task)
        client = await self._clients.for_team(team)

        async def open_dm(user: str) -> str:
            return await self._dm(client, user)

        channel, thread = await destination(reply, task, open_dm)
        if channel is None:
            return None
        message = render(reply)
        broadcast = False
        if reply.kind == ReplyKind.REMINDER and task is not None:
            message = self._calling(message, task, direct=channel.startswith("D"))
            if channel.startswith("D"):
                # In a DM a thread reply notifies nobody: the reminder goes on top.
                thread = None
            # In a channel the reminder stays in the task's thread but is also
            # shown in the channel, so it cannot go unseen.
            broadcast = thread is not None
        key = reply.delivery_key
        if key is not None and reply.unless_posted:
            posted = await metadata.find_posted(client, channel=channel, thread=thread, key=key)
            if posted is None and thread:
                # An attempt that ran before the task's card (and thread) existed
                # posted in the channel itself.
                posted = await metadata.find_posted(client, channel=channel, thread=None, key=key)
            if posted is None and reply.user_ref and not channel.startswith("D"):
                # A person reminded in a thread may have been reminded in their DM by an
                # attempt that ran before the task's card (and thread) existed.
                dm = await self._dm(client, reply.user_ref)
                posted = await metadata.find_posted(client, channel=dm, thread=None, key=key)
            if posted is not None:
                log.info("reply %s was posted before a crash (%s): not posted again", key, posted)
                return posted
        try:
            response = await client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread,
                reply_broadcast=broadcast or None,
                metadata=metadata.tag(key) if key is not None else None,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            instead = None
            if error in _UNREACHABLE and task is not None:
                why = unreachable(task, channel, error)
                instead = await for_creator(
                    reply, task, channel=channel, why=why, store=self._store, labels=self._labels
                )
            if instead is None:
                raise
            # The channel is out of reach: its creator gets the message, told why.
            creator, moved = instead
            target = await self._dm(client, creator)
            message = render(moved)
            response = await client.chat_postMessage(
                channel=target, text=message.text, blocks=message.blocks
            )
            return str(response["ts"])
        if task is not None and reply.kind == ReplyKind.REMINDER:
            # The card's "Next" line moved on with this fire.
            await self.refresh_card(client, task, tz=task.timezone)
        if reply.attachment is not None:
            await self._attach(client, reply.attachment, channel, thread or str(response["ts"]))
        return str(response["ts"])

    @staticmethod
    async def _attach(
        client: AsyncWebClient, attachment: Attachment, channel: str, thread: str
    ) -> None:
        """Upload a long output as a file in the message's thread (never pasted whole)."""
        try:
            if attachment.data is not None:  # a picture: the file is the bytes
                await client.files_upload_v2(
                    channel=channel,
                    thread_ts=thread,
                    file=attachment.data,
                    filename=attachment.filename,
                    title=attachment.content or attachment.filename,
                )
                return
            await client.files_upload_v2(
                channel=channel,
                thread_ts=thread,
                content=attachment.content,
                filename=attachment.filename,
                title=attachment.filename,
            )
        except (SlackApiError, SlackRequestError) as exc:
            # The message itself went out; a missing file is no reason to fail it.
            log.warning("file %s not uploaded: %s", attachment.filename, exc)

    @staticmethod
    def _calling(message: SlackMessage, task: TaskPublic, *, direct: bool) -> SlackMessage:
        """Mention the task's people when a reminder goes to a channel."""
        people = [a for a in task.assignees if a[:1] in {"U", "W"} and a.isalnum()]
        if direct or not people:
            return message
        mentions = " ".join(f"<@{p}>" for p in people)
        blocks = [*message.blocks]
        blocks.insert(
            1, {"type": "context", "elements": [{"type": "mrkdwn", "text": f"for {mentions}"}]}
        )
        return SlackMessage(text=f"{message.text} ({mentions})", blocks=blocks)


def _said(exc: KairosError) -> str:
    """The error's message and what caused it (a database's driver error, say)."""
    cause = exc.__cause__
    return f"{exc.message} ({type(cause).__name__})" if cause is not None else exc.message
