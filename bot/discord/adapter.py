"""``DiscordAdapter``: puts Kairos's replies, task cards and reminders into Discord.

It is the ``ChatAdapter`` for Discord (``send``, which ``bot.notify.ChatNotifier``
posts reminders through) and what the gateway listeners hand their replies to
(``deliver``). Every task gets one card message (an embed with persistent
buttons); in a server channel a thread is started from it, and since a thread
started from a message has that message's id, the card's id is the task's
``thread_ref`` either way. Every REST call passes the ``Outbox`` (global pacing)
and carries ``allowed_mentions`` naming only the people a message is for:
Kairos never pings ``@everyone``, ``@here`` or a role.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.cards import card_labels
from bot.conversation.destination import destination, for_creator, task_of
from bot.conversation.labels import LabelSource, in_task_language
from bot.discord.components import view_for
from bot.discord.outbound import Outbox
from bot.discord.render import DiscordMessage, clip, render, task_card
from core.messages import Inbound, Reply, ReplyKind
from core.models import TaskPublic
from core.ports import Clock
from core.store import SqlStore

log = logging.getLogger(__name__)

#: Answers an interaction (its first answer, or a follow-up): message, private?
Answer = Callable[[DiscordMessage, bool], Awaitable[None]]

_FINISHED = frozenset({"done", "deleted"})


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a batch of replies answers: who asked, and how."""

    inbound: Inbound
    #: Set for interactions (commands, buttons, modals): it must be answered.
    answer: Answer | None = None
    #: Replies go only to the person who acted.
    private: bool = False
    #: The message a button was pressed on (a card or a fired reminder).
    pressed_id: str | None = None


def mentions_for(message: DiscordMessage) -> discord.AllowedMentions:
    """Ping the people a message names, nobody else: no @everyone, @here or roles."""
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        users=[discord.Object(int(p)) for p in message.pings if p.isdigit()],
        replied_user=False,
    )


def send_kwargs(message: DiscordMessage) -> dict[str, Any]:
    """Keyword arguments for ``Messageable.send`` / ``followup.send`` (fresh file each call)."""
    kwargs: dict[str, Any] = {
        "content": message.content,
        "embeds": list(message.embeds),
        "allowed_mentions": mentions_for(message),
    }
    view = view_for(message.buttons)
    if view is not None:
        kwargs["view"] = view
    if message.file is not None:
        data = message.file.data or message.file.content.encode("utf-8")  # a PNG, or text
        kwargs["file"] = discord.File(io.BytesIO(data), filename=message.file.filename)
    return kwargs


def refusal(channel: str, refused: discord.HTTPException) -> str:
    """Why Discord refused a post in ``channel``, in the person's terms."""
    if isinstance(refused, discord.NotFound):
        return f"I can't find #{channel} (deleted, or a channel I have no access to)"
    return f"I may not post in #{channel} (I need View Channel and Send Messages there)"


def moved_note(task: TaskPublic, channel: str, refused: discord.HTTPException) -> str:
    """What the person hears when the card cannot go to ``channel`` and comes to them."""
    return (
        f"#{task.id} '{task.title}' is saved, but {refusal(channel, refused)}: its card and "
        f"reminders come to your DMs instead. Once I may post there, say "
        f"'move #{task.id} to #{channel}'."
    )


class DiscordAdapter:
    """Sends replies and reminders, and keeps task cards current."""

    def __init__(
        self, *, client: discord.Client, store: SqlStore, clock: Clock, outbox: Outbox
    ) -> None:
        self._client = client
        self._store = store
        self._clock = clock
        self._outbox = outbox
        #: person → their DM channel (it never changes).
        self._dms: dict[str, str] = {}
        #: channels known to be DMs.
        self._direct: set[str] = set()
        #: channels where Kairos cannot start threads (DMs, or no permission).
        self._threadless: set[str] = set()
        self._labels: LabelSource | None = None

    def use_labels(self, labels: LabelSource) -> None:
        """Show cards' field names and buttons in the language of each task."""
        self._labels = labels

    async def _card(self, task: TaskPublic, *, tz: str, note: str) -> DiscordMessage:
        now = self._clock.now()
        labels = await card_labels(self._labels, task, tz=tz, now=now)
        return task_card(task, tz=tz, now=now, note=note, labels=labels)

    # --- replies to something a person did -------------------------------------

    async def deliver(self, replies: Sequence[Reply], origin: Origin) -> None:
        if origin.inbound.is_direct and origin.inbound.channel_ref:
            self._direct.add(origin.inbound.channel_ref)
            self._threadless.add(origin.inbound.channel_ref)
        answered = False
        for reply in replies:
            try:
                answered = await self._deliver_one(reply, origin, answered=answered) or answered
            except discord.HTTPException as exc:
                # One refused post must not lose the others (the status is safe to log).
                log.warning("Discord refused a reply: %s %s", exc.status, exc.text[:200])
        if origin.answer is not None and not answered:
            # An interaction must be answered, or Discord shows "interaction failed".
            await origin.answer(DiscordMessage(content="OK."), True)

    async def _deliver_one(self, reply: Reply, origin: Origin, *, answered: bool) -> bool:
        """Deliver one reply; True when it answered the interaction."""
        task = await task_of(reply, self._store)
        tz = origin.inbound.user_timezone or (task.timezone if task else "UTC")
        if task is not None and task.thread_ref and task.channel_ref:
            await self.refresh_card(task, tz=tz, note=reply.text)
            if (
                origin.pressed_id
                and origin.pressed_id != task.thread_ref
                and origin.inbound.channel_ref
            ):
                fresh = await self._store.find_task(int(task.id)) or task
                card = await self._card(fresh, tz=tz, note=reply.text)
                await self._edit(origin.inbound.channel_ref, origin.pressed_id, card)
            return await self._say(reply, origin)
        if (
            task is not None
            and reply.kind in (ReplyKind.CONFIRMATION, ReplyKind.REMINDER)
            and str(task.status) not in _FINISHED
        ):
            channel = task.channel_ref or origin.inbound.channel_ref
            moved = await self.post_card(
                task, tz=tz, note=reply.text, channel=channel, user=origin.inbound.user_ref
            )
            if moved is not None:  # never "Got it … in #ops" when it is not in #ops
                reply = Reply(text=moved, kind=ReplyKind.ERROR, ephemeral=True)
            if origin.answer is not None:
                return await self._say(reply, origin)
            return False
        return await self._say(reply, origin)

    async def _say(self, reply: Reply, origin: Origin) -> bool:
        message = render(reply)
        private = reply.ephemeral or origin.private
        if origin.answer is not None:
            await origin.answer(message, private)
            return True
        inbound = origin.inbound
        if private and not inbound.is_direct:
            # No ephemeral messages outside interactions: a private answer goes to the DM.
            await self._post(await self._dm(inbound.user_ref), message)
            return False
        if inbound.thread_ref and inbound.channel_ref:
            # In the task's thread, or (no thread there) below the card.
            await self._post_in_thread(
                inbound.channel_ref, inbound.thread_ref, message, reference=inbound.message_ref
            )
            return False
        channel = reply.channel_ref or inbound.channel_ref
        if channel is None:
            channel = await self._dm(inbound.user_ref)
        reference = inbound.message_ref if channel == inbound.channel_ref else None
        await self._post(channel, message, reference=reference)
        return False

    # --- task cards ------------------------------------------------------------

    async def post_card(
        self, task: TaskPublic, *, tz: str, note: str, channel: str | None, user: str
    ) -> str | None:
        """Post the task's card, start its thread, and store the card as the task's thread.

        When Kairos may not post in ``channel`` the card, and the task with it, goes to
        the person's DM, its note saying why and how to move it back: that note is
        returned (``None`` when the card is where it was meant to be).
        """
        card = await self._card(task, tz=tz, note=note)
        target = channel or await self._dm(user)
        moved: str | None = None
        try:
            posted = await self._post(target, card)
        except (discord.Forbidden, discord.NotFound) as exc:
            if channel is None:
                raise  # the person's own DM refused: there is nowhere else
            moved = await in_task_language(self._labels, task, moved_note(task, channel, exc))
            target = await self._dm(user)
            posted = await self._post(target, await self._card(task, tz=tz, note=moved))
        card_id = str(posted.id)
        if target not in self._threadless:
            await self._start_thread(target, card_id, task)
        await self._store.update_task(int(task.id), {"thread_ref": card_id, "channel_ref": target})
        return moved

    async def _start_thread(self, channel: str, message_id: str, task: TaskPublic) -> None:
        name = clip(f"#{task.id} {task.title}", 100)

        async def start() -> Any:
            return await self._client.http.start_thread_with_message(
                channel, message_id, name=name, auto_archive_duration=10080
            )

        try:
            await self._outbox.call("threads.create", channel, start)
        except discord.HTTPException as exc:
            # A DM, or no permission to create threads: replies to the card still work.
            log.info("no thread on card %s: %s", message_id, exc.status)
            self._threadless.add(channel)

    async def refresh_card(self, task: TaskPublic, *, tz: str, note: str = "") -> None:
        """Re-render the task's card where it stands."""
        if not (task.thread_ref and task.channel_ref):
            return
        fresh = await self._store.find_task(int(task.id)) or task
        card = await self._card(fresh, tz=tz, note=note)
        await self._edit(task.channel_ref, task.thread_ref, card)

    async def _edit(self, channel: str, message_id: str, message: DiscordMessage) -> None:
        partial = self._client.get_partial_messageable(int(channel)).get_partial_message(
            int(message_id)
        )

        async def edit() -> Any:
            return await partial.edit(
                content=message.content,
                embeds=list(message.embeds),
                view=view_for(message.buttons),
                allowed_mentions=mentions_for(message),
            )

        try:
            await self._outbox.call("messages.edit", channel, edit)
        except discord.HTTPException as exc:
            # A deleted card is no reason to fail the action that changed the task.
            log.info("card %s not updated: %s", message_id, exc.status)

    async def _post(
        self, channel: str, message: DiscordMessage, *, reference: str | None = None
    ) -> discord.Message:
        target = self._client.get_partial_messageable(int(channel))

        async def post() -> discord.Message:
            kwargs = send_kwargs(message)
            if reference is not None:
                kwargs["reference"] = discord.MessageReference(
                    message_id=int(reference), channel_id=int(channel), fail_if_not_exists=False
                )
            return await target.send(**kwargs)

        return await self._outbox.call("messages.create", channel, post)

    async def _dm(self, user: str) -> str:
        channel = self._dms.get(user)
        if channel is None:

            async def open_dm() -> Any:
                return await self._client.http.start_private_message(int(user))

            data = await self._outbox.call("dm.open", None, open_dm)
            channel = str(data["id"])
            if len(self._dms) >= 10_000:
                self._dms.clear()  # a bound, not an LRU: re-asking is cheap
            self._dms[user] = channel
            self._direct.add(channel)
            self._threadless.add(channel)
        return channel

    # --- ChatAdapter -----------------------------------------------------------

    async def send(self, reply: Reply) -> str | None:
        """Post ``reply`` where it names: a thread, a channel, or a person's DM.

        This is the ``ChatAdapter`` the reminder notifier (``bot.notify``) uses.
        """
        task = await task_of(reply, self._store)
        channel, thread = await destination(reply, task, self._dm)
        if channel is None:
            return None
        message = render(reply)
        if reply.kind == ReplyKind.REMINDER and task is not None and channel not in self._direct:
            message = self._calling(message, task)
        try:
            posted = await self._post_in_thread(channel, thread, message)
        except (discord.Forbidden, discord.NotFound) as exc:
            instead = None
            if channel not in self._direct:
                why = f"{refusal(channel, exc)}. Once I may, its messages go there again."
                instead = await for_creator(
                    reply, task, channel=channel, why=why, store=self._store, labels=self._labels
                )
            if instead is None:
                raise
            # The channel is out of reach: its creator gets the message, told why.
            creator, moved = instead
            posted = await self._post(await self._dm(creator), render(moved))
            return str(posted.id)
        if task is not None and reply.kind == ReplyKind.REMINDER:
            # The card's "Next" line moved on with this fire.
            await self.refresh_card(task, tz=task.timezone)
        return str(posted.id)

    async def _post_in_thread(
        self,
        channel: str,
        thread: str | None,
        message: DiscordMessage,
        *,
        reference: str | None = None,
    ) -> discord.Message:
        """Into the card's thread when it has one, else in the channel as a reply to the card
        (or to ``reference``, the message being answered)."""
        if thread and channel not in self._threadless:
            try:
                return await self._post(thread, message, reference=reference)
            except (discord.NotFound, discord.Forbidden):
                self._threadless.add(channel)  # no thread there (a DM, or it was deleted)
        return await self._post(channel, message, reference=reference or thread)

    @staticmethod
    def _calling(message: DiscordMessage, task: TaskPublic) -> DiscordMessage:
        """Mention (and ping) the task's people when a reminder goes to a channel."""
        people = [a for a in task.assignees if a.isdigit()]
        if not people:
            return message
        mentions = " ".join(f"<@{p}>" for p in people)
        content = clip(f"{message.content} (for {mentions})", 2000)
        return DiscordMessage(
            content=content,
            embeds=message.embeds,
            buttons=message.buttons,
            file=message.file,
            pings=tuple(dict.fromkeys([*message.pings, *people])),
        )
