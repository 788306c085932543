"""A report in Slack: Block Kit for its figures, its charts uploaded with files_upload_v2.

The text and figures come from ``core.insight.report`` (the same ``Report`` the
CLI prints); this module only lays them out for Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from core.insight.charts import Chart
from core.insight.report import Report, Tally, duration, headline, percent

log = logging.getLogger(__name__)

_ROWS = 10


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _rows(groups: dict[str, Tally], *, people: bool) -> str:
    lines = []
    for name, t in list(groups.items())[:_ROWS]:
        shown = f"<@{name}>" if people and name[:1] != "(" else name
        lines.append(
            f"{shown} — {t.done} done, {t.planned_done}/{t.planned} planned, "
            f"on time {percent(t.on_time_rate)}, {t.overdue} overdue"
        )
    return "\n".join(lines)


def report_blocks(report: Report) -> list[dict[str, Any]]:
    """The report as Block Kit: header, narrative, headline, people, channels, jobs."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Report for {report.scope}"[:150]},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": report.period.label}]},
    ]
    if report.narrative:
        blocks.append(_mrkdwn(report.narrative))
    blocks.append(_mrkdwn("\n".join(headline(report))))
    if report.people:
        blocks += [
            {"type": "divider"},
            _mrkdwn("*Per person*\n" + _rows(report.people, people=True)),
        ]
    if report.channels and report.scope == "the team":
        blocks.append(_mrkdwn("*Per channel*\n" + _rows(report.channels, people=False)))
    if report.jobs:
        jobs = [
            f"#{j.task_id} {j.title}: {j.attempts} runs, {percent(j.success_rate)} ok, "
            f"median {duration(j.median_ms)}"
            for j in report.jobs[:_ROWS]
        ]
        blocks += [{"type": "divider"}, _mrkdwn("*Jobs*\n" + "\n".join(jobs))]
        slow = ", ".join(f"{j.title} ({duration(j.median_ms)})" for j in report.slowest[:3])
        failing = ", ".join(f"{j.title} ({j.failures})" for j in report.most_failing[:3])
        notes = [f"Slowest: {slow}" if slow else "", f"Most failing: {failing}" if failing else ""]
        if any(notes):
            blocks.append(
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": " · ".join(n for n in notes if n)}],
                }
            )
    return blocks


async def post_report(
    client: AsyncWebClient,
    *,
    channel: str,
    report: Report,
    text: str,
    charts: Sequence[Chart] = (),
) -> str:
    """Post the report, then its charts in its thread; returns the message's ts.

    A chart that cannot be uploaded is logged; the report itself went out.
    """
    response = await client.chat_postMessage(
        channel=channel, text=text[:3000], blocks=report_blocks(report)
    )
    ts = str(response["ts"])
    if charts:
        try:
            await client.files_upload_v2(
                channel=channel,
                thread_ts=ts,
                initial_comment="Charts for this report",
                file_uploads=[
                    {"content": c.png, "filename": c.filename, "title": c.title} for c in charts
                ],
            )
        except (SlackApiError, SlackRequestError) as exc:
            log.warning("report charts not uploaded: %s", exc)
    return ts
