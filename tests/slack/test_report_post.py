"""A report posted to Slack: Block Kit figures and the charts uploaded with files_upload_v2
(a real AsyncWebClient against the fake Slack Web API)."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.image import imread
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.report_post import post_report
from core.insight.charts import charts
from core.insight.periods import Span, last_complete
from core.insight.report import build_report, render_text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.task_history import generate_runs, generate_tasks

from .conftest import BOT_TOKEN


async def test_report_and_charts_reach_slack(fake: Any) -> None:
    tasks = generate_tasks(600)
    jobs, runs = generate_runs()
    period = last_complete(Span.WEEK, datetime(2026, 4, 15, tzinfo=UTC), "Europe/Berlin")
    report = build_report(tasks + jobs, runs, period)
    made = charts(tasks + jobs, runs, period)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)

    ts = await post_report(
        client, channel="C0001", report=report, text=render_text(report), charts=made
    )

    [post] = fake.of("chat.postMessage")
    assert post.body["channel"] == "C0001" and ts
    blocks = post.blocks()
    assert blocks[0]["type"] == "header" and "Report for the team" in blocks[0]["text"]["text"]
    figures = blocks[2]["text"]["text"]
    assert f"Done: {report.team.done}" in figures and "On time:" in figures
    assert any("*Jobs*" in b.get("text", {}).get("text", "") for b in blocks)
    [complete] = fake.of("files.completeUploadExternal")
    assert complete.body["channel_id"] == "C0001" and complete.body["thread_ts"] == ts
    assert len(fake.uploads) == 4
    for data in fake.uploads.values():
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        pixels = imread(io.BytesIO(data), format="png")
        assert pixels.shape[1] >= 700 and float(pixels[..., :3].std()) > 0.05
