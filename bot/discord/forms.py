"""The Edit modal's rules for Discord: the same ``ServiceTaskForms`` as Slack's.

Discord tells no one's time zone, so the modal reads times in the person's
zone or, when they set none, the server's default (``Inbound.user_timezone``
carries that effective zone). Unlike a Slack profile's zone, that default must
not be stored as the person's own: the actor is registered without it.
"""

from __future__ import annotations

from dataclasses import replace

from bot.slack.taskforms import ServiceTaskForms
from core.messages import Inbound
from core.models import Member


class DiscordTaskForms(ServiceTaskForms):
    async def _actor(self, inbound: Inbound) -> Member:
        return await super()._actor(replace(inbound, user_timezone=None))
