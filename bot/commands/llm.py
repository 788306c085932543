"""``kairos llm usage`` and ``kairos eval parse``, and the parser the CLI uses.

``parser_for(mode)`` gives ``kairos parse`` and ``kairos eval parse`` one object
with the rule parser's synchronous ``parse`` signature: ``rules`` is the
``RuleParser`` itself (nothing else is imported or opened); ``claude`` and
``auto`` run the ``ParserChain`` over Claude on one event loop kept for the
whole batch, recording usage in the configured database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bot.commands.common import fail, load_settings, run_async

if TYPE_CHECKING:
    from core.intents.chain import ParserChain
    from core.intents.model import Intent

PARSERS = ("rules", "claude", "auto")


class ChainParser:
    """A ``ParserChain`` behind the synchronous ``IntentParser`` signature (CLI batches)."""

    def __init__(self, runner: asyncio.Runner, chain: ParserChain) -> None:
        self._runner = runner
        self._chain = chain

    def parse(
        self,
        text: str,
        *,
        now: datetime,
        tz: str,
        user: str = "me",
        date_order: str | None = None,
    ) -> Intent:
        from core.ports import ParseContext

        context = ParseContext(now=now, tz=tz, user=user, date_order=date_order)
        return self._runner.run(self._chain.read(text, context)).intent


@contextlib.contextmanager
def parser_for(mode: str, *, date_order: str | None = None) -> Iterator[Any]:
    """The parser of ``--parser MODE`` for the duration of the block."""
    from core.intents.rules import RuleParser

    rules = RuleParser(date_order=date_order)
    if mode == "rules":
        yield rules
        return
    if mode not in PARSERS:
        fail(f"--parser must be one of {', '.join(PARSERS)}", code=2)
    settings = load_settings()
    if settings.anthropic_api_key is None:
        fail(f"--parser {mode} needs Claude: set KAIROS_ANTHROPIC_API_KEY.", code=2)
    from core import migrate
    from core.clock import SystemClock
    from core.db import Database
    from core.store import SqlStore
    from integrations.llm.build import build_chain, build_claude

    with asyncio.Runner() as runner:
        runner.run(migrate.upgrade(settings.database_url))
        db = Database(settings.database_url)
        claude = build_claude(settings, ledger=SqlStore(db), clock=SystemClock())
        try:
            yield ChainParser(runner, build_chain(settings, rules=rules, claude=claude, mode=mode))
        finally:
            if claude is not None:
                runner.run(claude.client.close())
            runner.run(db.dispose())


def eval_parse(
    corpus: Path = typer.Argument(..., help="A JSONL corpus in the PARSING.md format."),
    parser: str = typer.Option("rules", "--parser", help="rules, claude or auto."),
    failures: bool = typer.Option(False, "--failures", help="List every wrong field."),
) -> None:
    """Score a parser on CORPUS with the corpus test's scoring (per field and whole cases)."""
    from core.intents.scoring import load, score

    try:
        cases = load(corpus)
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"cannot read the corpus {corpus}: {exc}", code=2)
    with parser_for(parser) as reader:
        result = score(reader, cases)
    table = result.table(f"{parser} on {corpus.name}")
    if not failures:
        table = "\n".join(line for line in table.splitlines() if not line.startswith("  "))
    typer.echo(table)


def usage(
    days: int = typer.Option(7, "--days", min=1, help="How many days back (UTC)."),
    workspace: int | None = typer.Option(None, "--workspace", help="One workspace id."),
) -> None:
    """Claude usage per day, workspace and model: calls, tokens in/out, cache, latency."""
    settings = load_settings()

    async def read() -> list[Any]:
        from core import migrate
        from core.db import Database
        from core.store import SqlStore

        await migrate.upgrade(settings.database_url)
        db = Database(settings.database_url)
        try:
            start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            since = start - timedelta(days=days - 1)
            return list(await SqlStore(db).llm_usage(since=since, workspace_id=workspace))
        finally:
            await db.dispose()

    rows = run_async(read())
    cap = settings.llm_daily_tokens
    typer.echo(f"daily budget per workspace: {cap if cap is not None else 'none'} tokens")
    if not rows:
        typer.echo("no Claude calls recorded")
        return
    typer.echo(
        f"{'day':<10} {'ws':>4} {'model':<24} {'calls':>6} {'in':>9} {'out':>8} "
        f"{'cache rd':>9} {'cache wr':>9} {'ms avg':>7}"
    )
    for row in rows:
        typer.echo(
            f"{row.day:<10} {row.workspace_id if row.workspace_id is not None else '-':>4} "
            f"{row.model[:24]:<24} {row.calls:>6} {row.input_tokens:>9} {row.output_tokens:>8} "
            f"{row.cache_read_tokens:>9} {row.cache_write_tokens:>9} {row.mean_latency_ms:>7}"
        )


def register(app: typer.Typer) -> None:
    """Add ``kairos llm usage`` and ``kairos eval parse``."""
    llm = typer.Typer(help="Claude: usage and budget.", no_args_is_help=True)
    llm.command("usage")(usage)
    app.add_typer(llm, name="llm")
    evaluate = typer.Typer(help="Measure Kairos on corpora.", no_args_is_help=True)
    evaluate.command("parse")(eval_parse)
    app.add_typer(evaluate, name="eval")
