"""Slack owners and admins (``users.info`` → ``is_admin``/``is_owner``) become Kairos admins
when first seen; a role changed in Kairos afterwards is never overwritten."""

from __future__ import annotations

import sqlalchemy as sa
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.people import Profiles
from core.clock import ManualClock
from core.enums import Platform, Role
from core.store import SqlStore

from .fake_slack import FakeSlack


async def test_slack_admins_are_kairos_admins(
    fake: FakeSlack, store: SqlStore, clock: ManualClock
) -> None:
    fake.admins.add("U0001")
    client = AsyncWebClient(token="xoxb-test-T0001", base_url=fake.api_url)  # type: ignore[attr-defined]
    profiles = Profiles(registry=store, clock=clock)
    admin = await profiles.get(client, team_id="T0001", user_id="U0001")
    plain = await profiles.get(client, team_id="T0001", user_id="U0002")
    assert (admin.admin, plain.admin) == (True, False)
    workspace = await store.ensure_workspace(Platform.SLACK, "T0001")
    assert workspace.id is not None
    roles = {m: (await store.ensure_member(workspace.id, m)).role for m in ("U0001", "U0002")}
    assert roles == {"U0001": Role.ADMIN, "U0002": Role.MEMBER}

    # Demoted in Kairos: seeing the person again does not promote them back.
    async with store.db.engine.begin() as conn:
        await conn.execute(
            sa.text("UPDATE members SET role = 'member' WHERE platform_user_id = 'U0001'")
        )
    profiles.forget("T0001", "U0001")
    await profiles.get(client, team_id="T0001", user_id="U0001")
    assert (await store.ensure_member(workspace.id, "U0001")).role == Role.MEMBER
