"""The work behind each Discord event: translate, ask the conversation, deliver.

Every interaction is answered within Discord's 3 seconds. By default
(``KAIROS_DISCORD_DEFER_AFTER_MS=0``) it is deferred ("Kairos is thinking…")
before any work — no database read, conversation or permission lookup comes
before that first response, so it is as fast as Slack's ack even when many
interactions arrive at once — and answered by a follow-up when the work is
done. With ``answer_within`` > 0 seconds the work starts at once and the
interaction is answered directly when the answer is ready that soon, else
deferred then. Autocompletes and the Edit modal cannot be deferred: they are
answered directly.
Messages are acted on when they are DMs, mention Kairos, or are replies in a
task card's thread. The bot's own and other bots' messages are ignored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

import discord

from bot.conversation.guard import guarded
from bot.conversation.visibility import may_see
from bot.discord.adapter import DiscordAdapter, Origin, send_kwargs
from bot.discord.components import EDIT_ACTION, edit_modal, read_modal, task_of_modal
from bot.discord.inbound import DM_WORKSPACE, Said, command_to_inbound, mentions_bot, to_inbound
from bot.discord.people import People, Person
from bot.discord.render import DiscordMessage
from bot.discord.turns import Turns
from bot.slack.forms import TaskForms
from core.enums import TaskStatus
from core.errors import KairosError
from core.messages import Inbound, Reply, ReplyKind
from core.ports import Clock, Conversation
from core.schedule import check_timezone
from core.store import SqlStore, TaskQuery

log = logging.getLogger(__name__)


class Answer:
    """Answers one interaction: directly when quick, else deferred and followed up."""

    def __init__(
        self, interaction: discord.Interaction[Any], *, private: bool, within: float
    ) -> None:
        self._interaction = interaction
        self._private = private
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        if within > 0:
            self._timer = asyncio.get_running_loop().call_later(within, self._defer_soon)
        self._deferring: asyncio.Task[None] | None = None

    @classmethod
    async def begin(
        cls, interaction: discord.Interaction[Any], *, private: bool, within: float
    ) -> Answer:
        """An ``Answer`` for ``interaction``; with ``within`` ≤ 0 it is deferred before this
        returns (a failed deferral raises: the work is then not done, nothing is said)."""
        answer = cls(interaction, private=private, within=within)
        if within <= 0:
            await answer.defer()
        return answer

    def _defer_soon(self) -> None:
        self._deferring = asyncio.create_task(self.defer(), name="kairos-discord-defer")

    async def defer(self) -> None:
        async with self._lock:
            if not self._interaction.response.is_done():
                await self._interaction.response.defer(ephemeral=self._private, thinking=True)

    async def __call__(self, message: DiscordMessage, private: bool) -> None:
        async with self._lock:
            self.close()
            kwargs = send_kwargs(message)
            if not self._interaction.response.is_done():
                await self._interaction.response.send_message(**kwargs, ephemeral=private)
            else:
                await self._interaction.followup.send(**kwargs, ephemeral=private)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class Listeners:
    """Messages, commands, buttons and modals, wired to one conversation."""

    def __init__(
        self,
        *,
        conversation: Conversation,
        adapter: DiscordAdapter,
        people: People,
        store: SqlStore,
        forms: TaskForms | None,
        clock: Clock,
        dm_workspace: str = DM_WORKSPACE,
        answer_within: float = 0.0,
        work_limit: int = 16,
    ) -> None:
        self.conversation = conversation
        self.adapter = adapter
        self.people = people
        self.store = store
        self.forms = forms
        self.clock = clock
        self.dm_workspace = dm_workspace
        self.answer_within = answer_within
        self._turns = Turns(limit=work_limit)

    async def _answer(self, interaction: discord.Interaction[Any]) -> Answer:
        """Start answering ``interaction`` privately (deferred here, by default)."""
        async with self._turns.answering():
            return await Answer.begin(interaction, private=True, within=self.answer_within)

    async def _run(self, inbound: Inbound, work: Awaitable[list[Reply]]) -> list[Reply]:
        """Await the conversation; a Kairos error becomes an error reply, not a crash."""
        return await guarded(work, what=f"a Discord message from {inbound.user_ref}")

    def _workspace(self, guild_id: int | None) -> str:
        return str(guild_id) if guild_id is not None else self.dm_workspace

    # --- messages --------------------------------------------------------------

    async def on_message(self, message: discord.Message, *, bot_user_id: str | None) -> None:
        if message.author.bot or str(message.author.id) == bot_user_id:
            return
        guild_id = message.guild.id if message.guild is not None else None
        where, parent = str(message.channel.id), self._thread_parent(message.channel, bot_user_id)
        card = self._replied_card(message, bot_user_id)
        if parent is None and card is not None:
            # A reply to a card where it has no thread (a DM): the card names the task.
            where, parent = card, where
        direct = guild_id is None
        if not direct and parent is None and not mentions_bot(message.content, bot_user_id):
            return  # in channels Kairos listens to mentions and its own task threads only
        said = Said(
            author_id=str(message.author.id),
            author_name=getattr(message.author, "display_name", "") or message.author.name,
            content=message.content,
            channel_id=where,
            message_id=str(message.id),
            guild_id=str(guild_id) if guild_id is not None else None,
            parent_id=parent,
        )
        async with self._turns.work():
            person = await self.people.get(self._workspace(guild_id), message.author)
            inbound = to_inbound(
                said,
                bot_user_id=bot_user_id,
                dm_workspace=self.dm_workspace,
                user_timezone=person.timezone,
                roles={str(r.id): r.name for r in getattr(message, "role_mentions", [])},
            )
            if not inbound.text:
                return
            replies = await self._run(inbound, self.conversation.handle(inbound))
            replies += await self._zone_notice(person, replies)
            await self.adapter.deliver(replies, Origin(inbound=inbound))

    @staticmethod
    def _thread_parent(channel: Any, bot_user_id: str | None) -> str | None:
        """The parent channel when ``channel`` is a thread Kairos started, else ``None``."""
        if isinstance(channel, discord.Thread):
            return str(channel.parent_id) if str(channel.owner_id) == bot_user_id else None
        return None

    @staticmethod
    def _replied_card(message: discord.Message, bot_user_id: str | None) -> str | None:
        """The id of the Kairos message (a card or reminder) ``message`` replies to."""
        replied = message.reference.resolved if message.reference is not None else None
        if isinstance(replied, discord.Message) and str(replied.author.id) == bot_user_id:
            return str(replied.id)
        return None

    async def _zone_notice(self, person: Person, replies: list[Reply]) -> list[Reply]:
        """On someone's first task with a time, say which zone was assumed (they set none)."""
        if person.timezone is not None:
            return []
        ids = {r.task_id for r in replies if r.kind == ReplyKind.CONFIRMATION and r.task_id}
        if not ids:
            return []
        member = person.member
        mine = await self.store.query_tasks(
            member.workspace_id,
            TaskQuery(assignee=member.platform_user_id, include_deleted=True, limit=50),
            now=self.clock.now(),
        )
        timed = [t for t in mine if t.created_by == member.id and (t.due or t.schedule)]
        if not timed or any(t.id not in ids for t in timed):
            return []
        return [
            Reply(
                text=f"I read the times in {person.server_timezone}, this server's default, "
                "because you have not set your time zone. Set it with `/timezone`.",
                ephemeral=True,
            )
        ]

    # --- application commands -------------------------------------------------

    def _inbound(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        person: Person,
        *,
        form: bool = False,
    ) -> Inbound:
        """The interaction as an ``Inbound``; for the modal (``form``) with the zone its
        times are read in: the person's, else the server's default."""
        zone = person.timezone or (person.server_timezone if form else None)
        channel = interaction.channel
        parent = str(channel.parent_id) if isinstance(channel, discord.Thread) else None
        return command_to_inbound(
            text=text,
            user_id=str(interaction.user.id),
            user_name=person.name,
            channel_id=str(interaction.channel_id) if interaction.channel_id else None,
            guild_id=str(interaction.guild_id) if interaction.guild_id else None,
            parent_id=parent,
            dm_workspace=self.dm_workspace,
            user_timezone=zone,
        )

    async def on_command(self, interaction: discord.Interaction[Any], text: str) -> None:
        """``/kairos text:…`` and the commands that are sentences in disguise."""
        answer = await self._answer(interaction)
        try:
            async with self._turns.work():
                person = await self.people.get(
                    self._workspace(interaction.guild_id), interaction.user
                )
                inbound = self._inbound(interaction, text, person)
                replies = await self._run(inbound, self.conversation.handle(inbound))
                replies += await self._zone_notice(person, replies)
                # Words answer only the caller; what others need to see goes out as cards.
                await self.adapter.deliver(
                    replies, Origin(inbound=inbound, answer=answer, private=True)
                )
        finally:
            answer.close()

    async def set_timezone(
        self, interaction: discord.Interaction[Any], zone: str, *, server: bool
    ) -> None:
        answer = await self._answer(interaction)
        try:
            async with self._turns.work():
                person = await self.people.get(
                    self._workspace(interaction.guild_id), interaction.user
                )
                text = await self._set_zone(person, zone.strip(), server=server)
                await answer(DiscordMessage(content=text), True)
        finally:
            answer.close()

    async def _set_zone(self, person: Person, zone: str, *, server: bool) -> str:
        try:
            zone = check_timezone(zone)
        except KairosError as exc:
            return exc.user_message()
        member = person.member
        if server:
            if str(member.role) not in {"admin", "owner"}:
                return "Only an admin (Manage Server) can set the server's default time zone."
            await self.store.update_workspace(member.workspace_id, default_timezone=zone)
            return f"This server's default time zone is now {zone}."
        assert member.id is not None
        await self.store.update_member(member.id, timezone=zone)
        return f"Your time zone is now {zone}."

    async def task_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[tuple[str, str]]:
        """Open tasks the person can see matching what they typed: (label, id)."""
        person = await self.people.get(self._workspace(interaction.guild_id), interaction.user)
        member = person.member
        typed = current.strip().lstrip("#")
        number = typed.isdigit()
        query = TaskQuery(
            statuses=frozenset({TaskStatus.OPEN, TaskStatus.PAUSED}),
            text=None if number else typed or None,
            limit=100,
        )
        tasks = await self.store.query_tasks(member.workspace_id, query, now=self.clock.now())
        seen = [
            t for t in tasks if may_see(t, member) and (not number or str(t.id).startswith(typed))
        ]
        return [(f"#{t.id} {t.title}"[:100], str(t.id)) for t in seen[:25]]

    # --- buttons and the modal -------------------------------------------------

    async def on_button(
        self, interaction: discord.Interaction[Any], action: str, value: str
    ) -> None:
        if action == EDIT_ACTION:  # a modal must be the first response: no deferral
            person = await self.people.get(self._workspace(interaction.guild_id), interaction.user)
            form = self._inbound(interaction, "", person, form=True)
            await self._open_edit(interaction, form, value)
            return
        answer = await self._answer(interaction)
        try:
            async with self._turns.work():
                person = await self.people.get(
                    self._workspace(interaction.guild_id), interaction.user
                )
                inbound = self._inbound(interaction, "", person)
                replies = await self._run(
                    inbound, self.conversation.press(inbound, action=action, value=value)
                )
                pressed = str(interaction.message.id) if interaction.message is not None else None
                origin = Origin(inbound=inbound, answer=answer, private=True, pressed_id=pressed)
                await self.adapter.deliver(replies, origin)
        finally:
            answer.close()

    async def _open_edit(
        self, interaction: discord.Interaction[Any], inbound: Inbound, value: str
    ) -> None:
        text = "Editing is not available here."
        if self.forms is not None:
            try:
                form = await self.forms.load(inbound, int(value.split(":", 1)[0]))
            except (KairosError, ValueError) as exc:
                text = exc.user_message() if isinstance(exc, KairosError) else "Unknown task."
            else:
                await interaction.response.send_modal(edit_modal(form))
                return
        await interaction.response.send_message(text, ephemeral=True)

    async def on_modal(self, interaction: discord.Interaction[Any]) -> bool:
        """An Edit modal's submission (read from its ``custom_id``, so it survives restarts)."""
        data: dict[str, Any] = dict(interaction.data or {})
        task_id = task_of_modal(str(data.get("custom_id", "")))
        if task_id is None or self.forms is None:
            return False
        answer = await self._answer(interaction)
        try:
            async with self._turns.work():
                await self._save_modal(interaction, data, task_id, answer)
        finally:
            answer.close()
        return True

    async def _save_modal(
        self,
        interaction: discord.Interaction[Any],
        data: dict[str, Any],
        task_id: int,
        answer: Answer,
    ) -> None:
        """Check the submitted form (errors answer the modal) and save it."""
        assert self.forms is not None
        person = await self.people.get(self._workspace(interaction.guild_id), interaction.user)
        inbound = self._inbound(interaction, "", person, form=True)
        try:
            shown = await self.forms.load(inbound, task_id)
        except KairosError as exc:
            await answer(DiscordMessage(content=exc.user_message()), True)
            return
        form = read_modal(data, task_id, shown=shown)
        errors = await self.forms.check(inbound, form)
        if errors:
            lines = "\n".join(f"• **{k}**: {v}" for k, v in errors.items())
            await answer(DiscordMessage(content=f"Not saved:\n{lines}"), True)
            return
        replies = await self._run(inbound, self.forms.save(inbound, form))
        await self.adapter.deliver(replies, Origin(inbound=inbound, answer=answer, private=True))
