"""Multi-workspace OAuth: /slack/install → /slack/oauth_redirect stores the
installation in Kairos's database; each workspace's requests use its own token."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from waiting import eventually

from bot.settings import Settings
from core.store.chat import ChatStateStore

from .recording import RecordingConversation

PAYLOADS = Path(__file__).parent / "payloads"


def dm_from(team: str, event_id: str) -> dict[str, Any]:
    payload = json.loads((PAYLOADS / "dm_message.json").read_text())
    payload["team_id"] = team
    payload["event_id"] = event_id
    payload["event"]["team"] = team
    payload["authorizations"][0]["team_id"] = team
    return payload


async def install(kairos: Any, code: str) -> None:
    page = await kairos.http.get("/slack/install")
    assert page.status_code == 200
    state = re.search(r"state=([\w-]+)", page.text)
    assert state is not None, page.text
    assert "client_id=111.222" in page.text
    done = await kairos.http.get(f"/slack/oauth_redirect?code={code}&state={state.group(1)}")
    assert done.status_code == 200, done.text


async def test_two_workspaces_install_and_stay_apart(
    fake, make_surface, slack_settings, sqlite_database
) -> None:
    settings = Settings(
        **{
            **slack_settings.model_dump(),
            "slack_bot_token": None,
            "slack_client_id": "111.222",
            "slack_client_secret": SecretStr("oauth-secret"),
        }
    )
    fake.oauth_codes = {
        "code-a": ("T0002", "xoxb-oauth-T0002"),
        "code-b": ("T0003", "xoxb-oauth-T0003"),
    }
    conversation = RecordingConversation()
    surface, kairos = await make_surface(conversation, settings=settings)
    kairos.http.base_url = "https://kairos.test"  # the state cookie is Secure

    await install(kairos, "code-a")
    await install(kairos, "code-b")
    access = fake.of("oauth.v2.access")
    assert [c.body["code"] for c in access] == ["code-a", "code-b"]

    state = ChatStateStore(sqlite_database)
    a = await state.find_installation(
        platform="slack", enterprise_id="", team_id="T0002", user_id=""
    )
    b = await state.find_installation(
        platform="slack", enterprise_id="", team_id="T0003", user_id=""
    )
    assert a is not None and a["bot_token"] == "xoxb-oauth-T0002"
    assert b is not None and b["bot_token"] == "xoxb-oauth-T0003"

    fake.calls.clear()
    await kairos.event(dm_from("T0002", "EvA"))
    await kairos.event(dm_from("T0003", "EvB"))
    await eventually(lambda: len(conversation.handled) == 2)
    by_team = {i.workspace_ref for i in conversation.handled}
    assert by_team == {"T0002", "T0003"}
    tokens = {c.token for c in fake.of("users.info")}
    assert tokens == {"xoxb-oauth-T0002", "xoxb-oauth-T0003"}

    # A workspace that never installed Kairos gets nothing done.
    await kairos.event(dm_from("T0009", "EvC"))
    await kairos.event(dm_from("T0003", "EvBarrier"))  # handled only after EvC was dropped
    await eventually(lambda: len(conversation.handled) == 3)
    assert [i.workspace_ref for i in conversation.handled][2:] == ["T0003"]

    # The OAuth state is single-use: replaying the redirect fails.
    replay = await kairos.http.get("/slack/oauth_redirect?code=code-a&state=bogus")
    assert replay.status_code >= 400

    # Uninstalling forgets that workspace only.
    uninstall = dm_from("T0002", "EvD")
    uninstall["event"] = {"type": "app_uninstalled", "event_ts": "1772443300.000100"}
    await kairos.event(uninstall)

    async def gone() -> bool:
        found = await state.find_installation(
            platform="slack", enterprise_id="", team_id="T0002", user_id=""
        )
        return found is None

    await eventually(gone)
    assert (
        await state.find_installation(
            platform="slack", enterprise_id="", team_id="T0003", user_id=""
        )
        is not None
    )
    assert surface.app.oauth_flow is not None
