"""The bolt ``AsyncApp`` of Kairos: listeners that ack, translate and act.

Every listener acknowledges within Slack's 3 seconds (``process_before_response=False``
lets bolt answer the HTTP request as soon as ``ack()`` is called; the rest runs
after). A slash command is acked once its work is committed, so that "ok" is
never said for a command a crash lost; one whose work takes longer is written to
the durable inbox (``bot.slack.inbox``) before it is acked "Working on it…", so
that another process finishes it if this one dies. Other listeners ack before
their work.
Retried events are dropped by event id, the bot's own and other bots' messages and
edits/joins are ignored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation.guard import guarded
from bot.slack import contract
from bot.slack.adapter import Clients, Origin, SlackAdapter
from bot.slack.forms import TaskForms
from bot.slack.home import HomeData, HomeSource, home_phrases, home_view
from bot.slack.inbound import (
    Payload,
    action_to_press,
    command_to_inbound,
    is_own_or_noise,
    mentions,
    message_to_inbound,
    plain_text,
    team_of,
    thread_of,
    user_inbound,
)
from bot.slack.inbox import CommandInbox, dedupe_key
from bot.slack.modals import errors_response, read_submission, task_modal
from bot.slack.people import Profiles
from bot.slack.redaction import quiet_bodies
from core.enums import Platform
from core.errors import KairosError
from core.messages import Inbound, Reply, ReplyKind
from core.models_inbox import InboxCommand
from core.ports import Clock, Conversation
from core.store.chat import ChatStateStore
from core.store.completion import doing

log = logging.getLogger(__name__)

#: How long an event id is remembered; Slack retries within minutes.
EVENT_MEMORY = timedelta(hours=1)

Ack = Callable[..., Awaitable[Any]]

#: How long a slash command's work may take before it is acked unfinished: Slack waits 3 s,
#: and bolt gives up (404) at 3 s too — a busy event loop needs the margin.
ACK_BUDGET_SECONDS = 2.0
#: The ack of a command whose work goes on: received, not done.
STILL_WORKING = "Working on it…"
#: The ack of a slow command the inbox could not record: honest about what may happen.
NOT_RECORDED = (
    "Kairos could not record this command (its database did not answer), so it was not "
    "safely received. If no answer follows within a minute, please try again."
)


class Listeners:
    """The work behind each Slack surface, registered on an ``AsyncApp``."""

    def __init__(
        self,
        *,
        conversation: Conversation,
        adapter: SlackAdapter,
        profiles: Profiles,
        forms: TaskForms | None,
        home: HomeSource | None,
        chat_state: ChatStateStore,
        clients: Clients,
        clock: Clock,
        default_timezone: str,
        work_limit: int = 8,
        inbox: CommandInbox | None = None,
    ) -> None:
        self.conversation = conversation
        self.adapter = adapter
        self.profiles = profiles
        self.forms = forms
        self.home = home
        self.chat_state = chat_state
        self.clients = clients
        self.clock = clock
        self.default_timezone = default_timezone
        self.inbox = inbox
        # Work after the ack runs a few at a time: a burst of commands then
        # queues cheaply instead of starving the acks of later requests (and
        # the database of connections). Opening a modal is never queued: its
        # trigger_id expires 3 s after the click.
        self._work = asyncio.Semaphore(work_limit)

    def register(self, app: AsyncApp) -> None:
        app.middleware(self.drop_retries)
        app.command(contract.COMMAND)(self.on_command)
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("app_uninstalled")(self.on_uninstalled)
        app.event("tokens_revoked")(self.on_uninstalled)
        app.action(contract.ACTION_ID_PATTERN)(self.on_button)
        app.shortcut(contract.SHORTCUT_CREATE_FROM_MESSAGE)(self.on_shortcut)
        app.view(contract.VIEW_EDIT_TASK)(self.on_submit)
        app.view(contract.VIEW_CREATE_TASK)(self.on_submit)

    # --- plumbing --------------------------------------------------------------

    async def drop_retries(self, body: Payload, next: Callable[[], Awaitable[Any]]) -> Any:
        """Act on each event id once, however often Slack (re)delivers it."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            first = await self.chat_state.first_sighting(
                platform="slack", event_id=str(event_id), now=self.clock.now(), keep=EVENT_MEMORY
            )
            if not first:
                log.info("duplicate delivery of event %s dropped", event_id)
                return BoltResponse(status=200, body="")
        return await next()

    async def _person(
        self, client: AsyncWebClient, team_id: str, user_id: str
    ) -> tuple[str | None, str]:
        profile = await self.profiles.get(client, team_id=team_id, user_id=user_id)
        return profile.timezone or self.default_timezone, profile.name

    async def _run(self, inbound: Inbound, work: Awaitable[list[Reply]]) -> list[Reply]:
        """Await the conversation; a Kairos error becomes an error reply, not a crash."""
        return await guarded(work, what=f"a Slack message from {inbound.user_ref}")

    # --- messages --------------------------------------------------------------

    async def on_command(
        self, ack: Ack, body: Payload, client: AsyncWebClient, respond: Any
    ) -> None:
        # Answered only once its work is committed (or has failed and says so): a
        # process killed before that never told Slack "ok", so the person sees the
        # command fail instead of waiting for a reply that will never come. Work
        # slower than Slack's 3 s is acked as received, not as done.
        # Its effect is committed together with its inbox entry's "done" mark.
        completion = self.inbox.begin(body) if self.inbox is not None else None
        with doing(completion):
            work = asyncio.ensure_future(self._command(body, client))
        try:
            inbound, replies = await asyncio.wait_for(asyncio.shield(work), ACK_BUDGET_SECONDS)
        except TimeoutError:
            # Received, not done: durable first (another process finishes it if
            # this one dies), then said.
            key = None
            if self.inbox is not None and completion is not None:
                key = await self.inbox.record(completion)
            recorded = key is not None or self.inbox is None
            await ack(text=STILL_WORKING if recorded else NOT_RECORDED)
            try:
                inbound, replies = await work
            finally:
                if self.inbox is not None:
                    await self.inbox.finish(key or dedupe_key(body))
        else:
            await ack()
        # Words answer only the caller (a slash command is typed "in private");
        # what others need to see goes out as task cards.
        await self.adapter.deliver(
            replies, Origin(client=client, inbound=inbound, respond=respond, private=True)
        )

    async def recover(self, entry: InboxCommand) -> None:
        """Do the work of a command whose process died, and answer on its ``response_url``."""
        assert self.inbox is not None
        body: Payload = {
            "team_id": entry.workspace,
            "user_id": entry.user,
            "user_name": entry.user_name,
            "channel_id": entry.channel,
            "text": entry.text,
        }
        try:
            client = await self.clients.for_team(entry.workspace)
            with doing(self.inbox.taken(entry)):
                inbound, replies = await self._command(body, client, sent_at=entry.received_at)
        finally:
            await self.inbox.finish(entry.dedupe_key)
        respond = AsyncRespond(response_url=entry.response_url)
        await self.adapter.deliver(
            replies, Origin(client=client, inbound=inbound, respond=respond, private=True)
        )

    async def _command(
        self, body: Payload, client: AsyncWebClient, *, sent_at: datetime | None = None
    ) -> tuple[Inbound, list[Reply]]:
        async with self._work:
            # Looking the person up is part of the guarded work: a database that does not
            # answer is the command's error reply, not bolt's traceback and no ack.
            inbound = command_to_inbound(body, sent_at=sent_at)

            async def work() -> list[Reply]:
                nonlocal inbound
                tz, name = await self._person(client, str(body["team_id"]), str(body["user_id"]))
                inbound = command_to_inbound(
                    body, user_timezone=tz, user_name=name, sent_at=sent_at
                )
                return await self.conversation.handle(inbound)

            replies = await self._run(inbound, work())
            return inbound, replies

    async def on_message(
        self, event: Payload, body: Payload, client: AsyncWebClient, context: Mapping[str, Any]
    ) -> None:
        bot_user = context.get("bot_user_id")
        if is_own_or_noise(event, bot_user_id=bot_user, bot_id=context.get("bot_id")):
            return
        direct = event.get("channel_type") == "im"
        if not direct:
            # In channels Kairos only listens in its own task threads; a mention
            # there also arrives as app_mention and is handled once, by that.
            if thread_of(event) is None or event.get("parent_user_id") != bot_user:
                return
            if mentions(event, bot_user):
                return
        await self._converse(event, body, client, context)

    async def on_mention(
        self, event: Payload, body: Payload, client: AsyncWebClient, context: Mapping[str, Any]
    ) -> None:
        if is_own_or_noise(
            event, bot_user_id=context.get("bot_user_id"), bot_id=context.get("bot_id")
        ):
            return
        await self._converse(event, body, client, context)

    async def _converse(
        self, event: Payload, body: Payload, client: AsyncWebClient, context: Mapping[str, Any]
    ) -> None:
        team = str(event.get("team") or team_of(body))
        async with self._work:
            tz, name = await self._person(client, team, str(event["user"]))
            inbound = message_to_inbound(
                event,
                team_id=team,
                bot_user_id=context.get("bot_user_id"),
                user_timezone=tz,
                user_name=name,
            )
            if not inbound.text:
                return
            replies = await self._run(inbound, self.conversation.handle(inbound))
            await self.adapter.deliver(replies, Origin(client=client, inbound=inbound))

    # --- buttons, modal, shortcut ----------------------------------------------

    async def on_button(
        self, ack: Ack, body: Payload, client: AsyncWebClient, respond: Any
    ) -> None:
        await ack()
        user = body["user"]
        tz, name = await self._person(client, team_of(body), str(user["id"]))
        press = action_to_press(body, user_timezone=tz, user_name=name)
        if press.action == contract.ACTION_EDIT:
            await self._open_edit(client, body, press.inbound, press.value)
            return
        async with self._work:
            replies = await self._run(
                press.inbound,
                self.conversation.press(press.inbound, action=press.action, value=press.value),
            )
            origin = Origin(
                client=client,
                inbound=press.inbound,
                respond=None if press.on_home else respond,
                private=True,
                pressed_ts=None if press.on_home else press.message_ts,
            )
            await self.adapter.deliver(
                [r for r in replies if not press.on_home or r.task_id], origin
            )
            if press.on_home:
                await self.publish_home(client, press.inbound)

    async def _open_edit(
        self, client: AsyncWebClient, body: Payload, inbound: Inbound, value: str
    ) -> None:
        if self.forms is None:
            return
        try:
            form = await self.forms.load(inbound, int(value.split(":", 1)[0]))
        except (KairosError, ValueError) as exc:
            text = exc.user_message() if isinstance(exc, KairosError) else "Unknown task."
            await self.adapter.deliver(
                [Reply(text=text, kind=ReplyKind.ERROR, ephemeral=True)],
                Origin(client=client, inbound=inbound, private=True),
            )
            return
        # The confirmation answers where the Edit was pressed (an ephemeral message
        # there, besides the card updated in place), not in a DM.
        form = replace(form, channel=inbound.channel_ref)
        await client.views_open(trigger_id=body["trigger_id"], view=task_modal(form))

    async def on_shortcut(self, ack: Ack, body: Payload, client: AsyncWebClient) -> None:
        await ack()
        if self.forms is None:
            return
        team = team_of(body)
        tz, _ = await self._person(client, team, str(body["user"]["id"]))
        text = str((body.get("message") or {}).get("text", ""))
        inbound = user_inbound(body, text=plain_text(text), user_timezone=tz)
        form = await self.forms.draft(inbound, inbound.text)
        channel = (body.get("channel") or {}).get("id")
        form = replace(form, channel=str(channel) if channel else None)
        await client.views_open(trigger_id=body["trigger_id"], view=task_modal(form))

    async def on_submit(
        self, ack: Ack, body: Payload, view: Payload, client: AsyncWebClient
    ) -> None:
        if self.forms is None:
            await ack()
            return
        team = team_of(body)
        tz, _ = await self._person(client, team, str(body["user"]["id"]))
        form = read_submission(view)
        inbound = user_inbound(body, user_timezone=tz)
        inbound = replace(inbound, channel_ref=form.channel)
        errors = await self.forms.check(inbound, form)
        if errors:
            await ack(**errors_response(errors))
            return
        await ack()
        async with self._work:
            replies = await self._run(inbound, self.forms.save(inbound, form))
            await self.adapter.deliver(
                replies, Origin(client=client, inbound=inbound, private=form.task_id is not None)
            )

    # --- App Home and lifecycle ------------------------------------------------

    async def on_home_opened(self, event: Payload, body: Payload, client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            return
        team = team_of(body)
        tz, name = await self._person(client, team, str(event["user"]))
        inbound = Inbound(
            platform=Platform.SLACK,
            workspace_ref=team,
            user_ref=str(event["user"]),
            text="",
            user_name=name,
            user_timezone=tz,
        )
        await self.publish_home(client, inbound)

    async def publish_home(self, client: AsyncWebClient, inbound: Inbound) -> None:
        data = HomeData()
        if self.home is not None:
            data = await self.home.home(
                workspace_ref=inbound.workspace_ref,
                user_ref=inbound.user_ref,
                timezone=inbound.user_timezone or self.default_timezone,
            )
        try:
            labels = await self.adapter.labels(
                data.language, data.workspace_id, phrases=home_phrases(data)
            )
            await client.views_publish(user_id=inbound.user_ref, view=home_view(data, labels))
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", exc.response.get("error"))

    async def on_uninstalled(self, body: Payload) -> None:
        team = team_of(body)
        self.clients.forget(team)
        await self.chat_state.delete_installations(platform="slack", enterprise_id="", team_id=team)


def build_bolt_app(
    *,
    listeners: Listeners,
    signing_secret: str,
    client: AsyncWebClient,
    oauth_settings: AsyncOAuthSettings | None,
) -> AsyncApp:
    """The bolt app: single-workspace (``client`` carries the bot token) or OAuth."""
    app = AsyncApp(
        name="kairos",
        # Request bodies (response_url, what people typed) never reach the logs.
        logger=quiet_bodies(logging.getLogger("bot.slack.bolt")),
        signing_secret=signing_secret,
        # The token, if any, travels in ``client`` (bolt reads it from there).
        client=client,
        oauth_settings=oauth_settings,
        # Answer Slack as soon as ack() is called; the listener's work goes on after.
        process_before_response=False,
    )
    listeners.register(app)
    return app
