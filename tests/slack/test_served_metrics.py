"""The Slack surface ``kairos run`` builds counts its Web API calls in ``/metrics``."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.app import Kairos
from bot.settings import Settings
from core.clock import ManualClock
from core.messages import Reply

from .fake_slack import FakeSlack


async def test_the_served_slack_surface_counts_its_web_api_calls(
    database_url: str, clock: ManualClock
) -> None:
    fake = FakeSlack()
    api_url = await fake.start()
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        slack_bot_token="xoxb-metrics-test",
        slack_signing_secret="metrics-secret",
        slack_api_url=api_url,
    )  # type: ignore[call-arg]
    kairos = await Kairos.open(settings, clock=clock)
    try:
        surface = kairos.add_slack()
        await surface.adapter.send(Reply(text="hello", channel_ref="C0METRICS"))
        assert fake.of("chat.postMessage")
        text = (await kairos.metrics.exposition()).decode()
    finally:
        await kairos.close()
        await fake.stop()
    counted = {
        (sample.labels["method"], sample.labels["outcome"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "kairos_chat_api_calls_total" and sample.labels["platform"] == "slack"
    }
    assert counted.get(("chat.postMessage", "ok")) == 1
